#!/bin/bash
# A/B: the scores refresh before (94204d1) and after this session's changes, alternating, after a day's changes each.
out=/tmp/ab.log
for db in postgres sqlite; do
  if [ $db = postgres ]; then url=postgres://postgres@127.0.0.1:5432/kehu_bench; else url=sqlite:////work/wt/bench/var/bench/kehu-1000000.sqlite3; fi
  for i in 1 2 3; do
    for tree in old bench; do
      cd /work/wt/$tree
      env DJANGO_SETTINGS_MODULE=config.settings.base KEHU_DEBUG=0 KEHU_DATABASE_URL=$url KEHU_MEDIA_ROOT=/work/wt/bench/var/media PYTHONPATH=/work/wt/bench /work/wt/bench/.venv/bin/python -m bench.analytics day-changes > /dev/null 2>&1
      s=$( { /usr/bin/time -f "%e %M" env DJANGO_SETTINGS_MODULE=config.settings.base KEHU_DEBUG=0 KEHU_DATABASE_URL=$url KEHU_MEDIA_ROOT=/work/wt/bench/var/media PYTHONPATH=/work/wt/$tree .venv/bin/kehu analytics refresh --part scores > /tmp/ab-run.json 2>/dev/null; } 2>&1 | tail -1)
      t=$(env KEHU_DATABASE_URL=$url PYTHONPATH=/work/wt/$tree DJANGO_SETTINGS_MODULE=config.settings.base .venv/bin/python -c "
import django; django.setup()
from kehu.analytics.models import AnalyticsRun
r=AnalyticsRun.objects.order_by('-id').first(); print(r.status, r.timings)")
      echo "$db $tree run$i wall_s peak_kb: $s | $t" >> $out
    done
  done
done
echo AB-DONE >> $out
