#!/bin/bash
# A/B of the scores refresh: old code (2a8208d, stale rows + re-read orders) on its copy of the database
# against new code (purchase deltas, queued COPY, SQLite pragmas) on the migrated one, alternating, each
# run after a day's changes made through the ORM.
db=$1; out=/tmp/ab-$db.log
export KEHU_MEDIA_ROOT=/work/wt/bench/var/media DJANGO_SETTINGS_MODULE=config.settings.base KEHU_DEBUG=0
url_of() {
  if [ $db = postgres ]; then [ $1 = old ] && echo postgres://postgres@127.0.0.1:5432/kehu_bench_old || echo postgres://postgres@127.0.0.1:5432/kehu_bench;
  else [ $1 = old ] && echo sqlite:////work/wt/bench/var/bench/old.sqlite3 || echo sqlite:////work/wt/bench/var/bench/kehu-1000000.sqlite3; fi; }
tree_of() { [ $1 = old ] && echo /work/wt/old || echo /work/wt/bench; }
run() { # arm label
  local arm=$1 label=$2; cd $(tree_of $arm); export KEHU_DATABASE_URL=$(url_of $arm)
  t0=$(date +%s.%N); PYTHONPATH=$PWD .venv/bin/kehu analytics refresh --part scores > /tmp/ab-run.json 2>/tmp/ab-run.err; rc=$?; t1=$(date +%s.%N)
  t=$(.venv/bin/python -c "import json; d=json.load(open('/tmp/ab-run.json')); print(d.get('seconds'), d.get('timings'), d.get('purchase_days') or d.get('summary',{}).get('purchase_days'))" 2>&1 | tail -1)
  echo "$db $arm $label rc=$rc wall $(echo "$t1 - $t0" | bc) | $t" >> $out
}
for arm in old new; do run $arm build; done
for i in 1 2 3; do
  for arm in old new; do
    cd $(tree_of $arm); KEHU_DATABASE_URL=$(url_of $arm) PYTHONPATH=/work/wt/bench .venv/bin/python -m bench.analytics day-changes > /dev/null 2>>/tmp/ab-run.err
    run $arm run$i
  done
done
echo AB-DONE >> $out
