#!/bin/bash
# A/B: new (worktree bench) vs old (worktree old, adda020), alternating, on one database.
# Optional: $3 the day (default today, Asia/Shanghai), $4 the rounds of two runs (default 3).
db=$1; out=$2
if [ $db = sqlite ]; then url=sqlite:////work/wt/bench/var/bench/kehu-1000000.sqlite3; else url=postgres://postgres@127.0.0.1:5432/kehu_bench; fi
today=${3:-$(TZ=Asia/Shanghai date +%F)}
run() {
  side=$1; dir=/work/wt/$2
  cd $dir
  env PYTHONPATH=$dir KEHU_MEDIA_ROOT=/work/wt/bench/var/media DJANGO_SETTINGS_MODULE=config.settings.base KEHU_DEBUG=0 KEHU_DATABASE_URL=$url KEHU_BENCH_DAY=$today .venv/bin/python -m bench.analytics day-changes > /dev/null
  res=$( { /usr/bin/time -f "TIME %e %M" env PYTHONPATH=$dir KEHU_MEDIA_ROOT=/work/wt/bench/var/media DJANGO_SETTINGS_MODULE=config.settings.base KEHU_DEBUG=0 KEHU_DATABASE_URL=$url .venv/bin/kehu analytics refresh --part scores --as-of $today 2>&1 >/tmp/ab-out.json; } 2>&1 | grep TIME)
  echo "$db $side $res $(python3 -c "import json;d=json.loads(open('/tmp/ab-out.json').read().strip().splitlines()[-1]);print(json.dumps(d['timings']))")" >> $out
}
orders=("new old" "old new" "new old")
for order in "${orders[@]:0:${4:-3}}"; do
  for side in $order; do
    if [ $side = new ]; then run new bench; else run old old; fi
  done
done
echo AB-DONE >> $out
