#!/bin/bash
# The A/B records of 2026-12-04, each run as (new = worktree bench, old = worktree old):
#   figures thread, new c3a3bb7, old 6fea3c5:
#     analytics-ab-20261203-summaries.sh postgres analytics-ab-20261204-figures-postgres.txt 2026-11-30 2
#     analytics-ab-20261203-summaries.sh sqlite analytics-ab-20261204-figures-sqlite.txt 2026-11-23 2
#   summaries read ahead, new a5ffe8b, old 860ff5a:
#     analytics-ab-20261203-summaries.sh postgres analytics-ab-20261204-readahead-postgres.txt 2026-11-30 3
#     analytics-ab-20261203-summaries.sh sqlite analytics-ab-20261204-readahead-sqlite.txt 2026-11-23 3
#   three COPY writers, new b6cdd83 with pg_staged.WRITERS = 3, old b6cdd83:
#     analytics-ab-20261203-summaries.sh postgres analytics-ab-20261204-writers3-postgres.txt 2026-12-04 3
exec bash "$(dirname "$0")/analytics-ab-20261203-summaries.sh" "$@"
