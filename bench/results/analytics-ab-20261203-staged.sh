#!/bin/bash
# A/B of the staged score write: new (worktree /work/wt/bench at 10262ae, or 1ff9b93 for the "-first"
# record) against old (worktree /work/wt/old at deb1e73), alternating, on one database. The procedure is
# the summaries' A/B, reused: bash analytics-ab-20261203-staged.sh postgres OUT.txt
exec bash "$(dirname "$0")/analytics-ab-20261203-summaries.sh" "$@"
