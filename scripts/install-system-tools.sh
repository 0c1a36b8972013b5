#!/bin/sh
# Installs the real DNS tools the tests and benchmarks use, and the browser the lessons are
# run in (tests/test_lessons_in_browser.py), where this machine can.
need=""
command -v dig >/dev/null 2>&1 || need="$need bind9-dnsutils"
command -v dnsperf >/dev/null 2>&1 || need="$need dnsperf"
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || need="$need dnsmasq-base"
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need="$need chromium"
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing:$need"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
else
  echo "note: without$need the tests that use it are skipped (dig: the real-tool tests; dnsperf, dnsmasq: the DNS benchmark compares nothing; chromium: the lessons in a browser)" >&2
fi
exit 0
