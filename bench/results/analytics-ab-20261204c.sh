#!/bin/bash
# A/B: new (worktree bench) vs old (worktree old), alternating, on one database, after a day's changes
# each (bench.analytics day-changes), with the refresh's wall, peak memory, user and system CPU.
# $1 sqlite|postgres, $2 output file, $3 the day, $4 rounds of two runs (default 3).
db=$1; out=$2; day=$3
if [ $db = sqlite ]; then url=sqlite:////work/wt/bench/var/bench/kehu-1000000.sqlite3; else url=postgres://postgres@127.0.0.1:5432/kehu_bench; fi
echo "# $db, day $day; old = $(git -C /work/wt/old log --oneline -1 | cut -c1-60); new = $(git -C /work/wt/bench log --oneline -1 | cut -c1-60)" >> $out
run() {
  side=$1; dir=/work/wt/$2
  cd $dir
  env PYTHONPATH=$dir KEHU_MEDIA_ROOT=/work/wt/bench/var/media DJANGO_SETTINGS_MODULE=config.settings.base KEHU_DEBUG=0 KEHU_DATABASE_URL=$url KEHU_BENCH_DAY=$day .venv/bin/python -m bench.analytics day-changes > /dev/null
  res=$( { /usr/bin/time -f "TIME wall %e peak_kb %M user %U sys %S" env PYTHONPATH=$dir KEHU_MEDIA_ROOT=/work/wt/bench/var/media DJANGO_SETTINGS_MODULE=config.settings.base KEHU_DEBUG=0 KEHU_DATABASE_URL=$url .venv/bin/kehu analytics refresh --part scores --as-of $day 2>&1 >/tmp/ab-out.json; } 2>&1 | grep TIME)
  echo "$db $side $res $(python3 -c "import json;d=json.loads(open('/tmp/ab-out.json').read().strip().splitlines()[-1]);print(json.dumps(d['timings']))")" >> $out
}
for i in $(seq 1 ${4:-3}); do
  if [ $((i % 2)) = 1 ]; then order="new old"; else order="old new"; fi
  for side in $order; do
    if [ $side = new ]; then run new bench; else run old old; fi
  done
done
echo AB-DONE >> $out
