#!/bin/sh
# Installs the real DNS tools the tests and benchmarks use, where this machine can.
need=""
command -v dig >/dev/null 2>&1 || need="$need bind9-dnsutils"
command -v dnsperf >/dev/null 2>&1 || need="$need dnsperf"
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || need="$need dnsmasq-base"
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing:$need"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
else
  echo "note: without$need the tests that use the real dig are skipped and the DNS benchmark compares nothing" >&2
fi
exit 0
