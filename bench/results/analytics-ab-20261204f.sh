#!/bin/bash
# A/B with the benchmark's own measure (bench.analytics._refresh: wall, wait4 peak, peak with children and
# scratch files): new (worktree bench) vs old (worktree old), alternating, a day's changes before each.
db=$1; out=$2; day=$3
if [ $db = sqlite ]; then url=sqlite:////work/wt/bench/var/bench/kehu-1000000.sqlite3; else url=postgres://postgres@127.0.0.1:5432/kehu_bench; fi
echo "# $db, day $day; old = $(git -C /work/wt/old log --oneline -1 | cut -c1-70); new = $(git -C /work/wt/bench log --oneline -1 | cut -c1-70)" >> $out
run() {
  side=$1; dir=/work/wt/$2
  cd $dir
  env PYTHONPATH=$dir KEHU_MEDIA_ROOT=/work/wt/bench/var/media DJANGO_SETTINGS_MODULE=config.settings.base KEHU_DEBUG=0 KEHU_DATABASE_URL=$url KEHU_BENCH_DAY=$day .venv/bin/python -m bench.analytics day-changes > /dev/null
  res=$(env PYTHONPATH=$dir DJANGO_SETTINGS_MODULE=config.settings.base .venv/bin/python -c "
import json, datetime
from bench.analytics import _refresh
r = _refresh('$url', as_of=datetime.date.fromisoformat('$day'))
t = r['refresh']['timings']
print('wall', r['wall_s'], 'peak', r['peak_mb'], 'tree', r['tree_peak_mb'], json.dumps(t))
")
  echo "$db $side $res" >> $out
}
for i in $(seq 1 ${4:-3}); do
  if [ $((i % 2)) = 1 ]; then order="new old"; else order="old new"; fi
  for side in $order; do
    if [ $side = new ]; then run new bench; else run old old; fi
  done
done
echo AB-DONE >> $out
