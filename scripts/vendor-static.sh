#!/usr/bin/env bash
# Vendor the front-end libraries Kehu uses into static/vendor/.
#
# No CDN is used at run time: this script downloads pinned versions from the
# npm registry into a temporary directory, copies only the minified browser
# builds plus their licence files, and records versions + sha256 sums in
# static/vendor/VERSIONS.txt. The resulting files are committed to the repo,
# so npm is only needed when updating them (edit the pins below and re-run).
#
# Usage: scripts/vendor-static.sh
set -euo pipefail

HTMX_VERSION="2.0.11"       # htmx.org 2.0.x (htmx 4 is a different API)
ALPINE_VERSION="3.17.5"     # alpinejs 3.x
ECHARTS_VERSION="6.1.0"     # echarts
SORTABLE_VERSION="1.15.7"   # sortablejs 1.15.x

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vendor="$repo_root/static/vendor"

command -v npm >/dev/null || { echo "npm is required to update vendored files" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "Installing packages into $tmp ..."
npm install --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
    --prefix "$tmp" \
    "htmx.org@$HTMX_VERSION" \
    "alpinejs@$ALPINE_VERSION" \
    "echarts@$ECHARTS_VERSION" \
    "sortablejs@$SORTABLE_VERSION"

nm="$tmp/node_modules"

# Print the path of the first licence-like file of a package directory
# (empty output if the package ships none).
find_license() {
    local dir="$1" f
    for f in LICENSE LICENSE.md LICENSE.txt license license.md LICENCE; do
        if [[ -f "$dir/$f" ]]; then echo "$dir/$f"; return 0; fi
    done
    return 0
}

# write_license PACKAGE OUT [BUNDLED_PACKAGE...]
# Copy the package's licence file to OUT. Some packages (alpinejs) publish no
# licence file to npm; for an MIT package we then write the standard MIT text
# with the author from package.json. Licences of dependencies that are bundled
# into the minified build (e.g. @vue/reactivity inside Alpine's cdn build) are
# appended.
write_license() {
    local pkg="$1" out="$2" lic spdx author dep dlic
    shift 2
    lic="$(find_license "$nm/$pkg")"
    if [[ -n "$lic" ]]; then
        cp "$lic" "$out"
    else
        spdx="$(node -p "require('$nm/$pkg/package.json').license || ''")"
        author="$(node -p "const a=require('$nm/$pkg/package.json').author; (a && (a.name || a)) || 'the $pkg authors'")"
        if [[ "$spdx" != "MIT" ]]; then
            echo "$pkg ships no LICENSE file and is not MIT ($spdx); add it by hand" >&2
            exit 1
        fi
        cat > "$out" <<MIT
$pkg is licensed under the MIT License (license field "MIT" of its
package.json; the npm package ships no LICENSE file, so this text was written
by scripts/vendor-static.sh).

The MIT License (MIT)

Copyright (c) $author and contributors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
MIT
    fi
    for dep in "$@"; do
        dlic="$(find_license "$nm/$dep")"
        [[ -n "$dlic" ]] || { echo "no LICENSE file for bundled $dep" >&2; exit 1; }
        {
            printf '\n\n----------------------------------------------------------------\n'
            printf 'Bundled in this build: %s (licence text from the installed %s@%s)\n\n' "$dep" "$dep" "$(installed_version "$dep")"
            cat "$dlic"
        } >> "$out"
    done
}

# installed_version PACKAGE -> version from its package.json
installed_version() {
    node -p "require('$nm/$1/package.json').version"
}

copied=()   # "package@version relative/path" lines for VERSIONS.txt

# vendor_pkg PACKAGE DEST_SUBDIR SRC_FILE DEST_FILE [BUNDLED_PACKAGE...]
vendor_pkg() {
    local pkg="$1" sub="$2" src="$3" dest="$4" ver
    shift 4
    ver="$(installed_version "$pkg")"
    [[ -f "$nm/$pkg/$src" ]] || { echo "missing $pkg/$src" >&2; exit 1; }
    rm -rf "${vendor:?}/$sub"
    mkdir -p "$vendor/$sub"
    cp "$nm/$pkg/$src" "$vendor/$sub/$dest"
    write_license "$pkg" "$vendor/$sub/LICENSE" "$@"
    copied+=("$pkg@$ver $sub/$dest" "$pkg@$ver $sub/LICENSE")
    if [[ -f "$nm/$pkg/NOTICE" ]]; then
        cp "$nm/$pkg/NOTICE" "$vendor/$sub/NOTICE"
        copied+=("$pkg@$ver $sub/NOTICE")
    fi
    echo "  $pkg@$ver -> static/vendor/$sub/$dest"
}

mkdir -p "$vendor"
vendor_pkg htmx.org   htmx       dist/htmx.min.js         htmx.min.js
vendor_pkg alpinejs   alpinejs   dist/cdn.min.js          alpine.min.js @vue/reactivity @vue/shared
vendor_pkg echarts    echarts    dist/echarts.min.js      echarts.min.js zrender
vendor_pkg sortablejs sortablejs Sortable.min.js          Sortable.min.js

{
    echo "# Vendored front-end files. Generated by scripts/vendor-static.sh -- do not edit by hand."
    echo "# package@version  sha256  path (relative to static/vendor/)"
    for entry in "${copied[@]}"; do
        pv="${entry%% *}"
        path="${entry#* }"
        sum="$(sha256sum "$vendor/$path" | cut -d' ' -f1)"
        printf '%s  %s  %s\n' "$pv" "$sum" "$path"
    done
} > "$vendor/VERSIONS.txt"

echo "Wrote static/vendor/VERSIONS.txt"
