#!/bin/bash
# A/B: the scores refresh before (63eeb1c) and after (f0db4b5: Blobs + reads beside the sync), alternating, after a day's changes each.
out=/tmp/ab.log
for db in postgres sqlite; do
  if [ $db = postgres ]; then url=postgres://postgres@127.0.0.1:5432/kehu_bench; else url=sqlite:////work/wt/bench/var/bench/kehu-1000000.sqlite3; fi
  export KEHU_DATABASE_URL=$url KEHU_MEDIA_ROOT=/work/wt/bench/var/media DJANGO_SETTINGS_MODULE=config.settings.base KEHU_DEBUG=0
  cd /work/wt/new
  t0=$(date +%s.%N); PYTHONPATH=/work/wt/new .venv/bin/kehu analytics refresh --part scores > /tmp/ab-build-$db.json 2>/dev/null; t1=$(date +%s.%N)
  echo "$db build wall $(echo "$t1 - $t0" | bc) $(cut -c1-400 /tmp/ab-build-$db.json)" >> $out
  for i in 1 2 3; do
    for tree in bench new; do
      cd /work/wt/$tree
      PYTHONPATH=/work/wt/bench .venv/bin/python -m bench.analytics day-changes > /dev/null 2>&1
      t0=$(date +%s.%N); PYTHONPATH=/work/wt/$tree .venv/bin/kehu analytics refresh --part scores > /tmp/ab-run.json 2>/dev/null; t1=$(date +%s.%N)
      t=$(PYTHONPATH=/work/wt/$tree .venv/bin/python -c "
import json; d=json.load(open('/tmp/ab-run.json')); print(d['seconds'], d['timings'])")
      echo "$db $tree run$i wall $(echo "$t1 - $t0" | bc) | $t" >> $out
    done
  done
done
echo AB-DONE >> $out
