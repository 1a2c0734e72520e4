#!/usr/bin/env bash
# Fuzzes one target for a while with the project's bounds, then minimises its corpus back into
# the tree. Usage: bash integration-tests/fuzz/run.sh TARGET [SECONDS]   (default 600)
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). The working
# corpus grows under $FUZZ_WORK (default /tmp/medpay-fuzz); only the minimised one is kept here.
# FUZZ_BUILD_ARGS=--no-default-features builds the domain targets without the service crates.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:?target name, see integration-tests/fuzz/Cargo.toml}
seconds=${2:-600}
work=${FUZZ_WORK:-/tmp/medpay-fuzz}/$target
mkdir -p "$work"
cp -n integration-tests/fuzz/corpus/"$target"/* "$work"/ 2>/dev/null || true
cp -n integration-tests/fuzz/regressions/"$target"/* "$work"/ 2>/dev/null || true

# The largest input each target reads, in bytes: a few times its largest seed.
case "$target" in
  settlement_csv_row | gateway_config) max_len=4096 ;;
  settlement_submit_record | group_case_request | points_put_table | budget_create | supervision_requests) max_len=16384 ;;
  points_tables | supervision_parameters | supervision_tables) max_len=16384 ;;
  *) max_len=65536 ;;
esac
# Bounds a finding is judged by: an input taking over 1 s, a process over 2 GiB, a single
# allocation over 512 MiB.
bounds=(-timeout=1 -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len="$max_len")
flags=(--fuzz-dir integration-tests/fuzz --sanitizer none --debug-assertions)
nice -n 19 cargo +nightly fuzz build "${flags[@]}" ${FUZZ_BUILD_ARGS:-} "$target"
mkdir -p integration-tests/fuzz/artifacts
bin=integration-tests/fuzz/target/x86_64-unknown-linux-gnu/release/$target

# One job, one worker, lowest priority. libFuzzer then logs to fuzz-0.log in its working
# directory, so each run gets a directory of its own and two targets can run side by side.
root=$(pwd)
logs=$(mktemp -d)
(cd "$logs" && nice -n 19 "$root/$bin" "$work" "${bounds[@]}" -max_total_time="$seconds" \
  -print_final_stats=1 -jobs=1 -workers=1 \
  -artifact_prefix="$root"/integration-tests/fuzz/artifacts/"$target"-) || status=$?
tail -n 25 "$logs"/fuzz-0.log && rm -rf "$logs"

# `cargo fuzz cmin` without its rebuild: keep the inputs that reach all the coverage reached.
minimised=$(mktemp -d)
nice -n 19 "$bin" -merge=1 "$minimised" "$work" "${bounds[@]}" 2>/dev/null
# The tree keeps at most $FUZZ_TREE_BYTES (default 256 KiB) of it, smallest inputs first, so CI's
# replay stays in seconds and the repository small; the whole minimised corpus stays in $work.
rm -rf "$work" && cp -r "$minimised" "$work"
budget=${FUZZ_TREE_BYTES:-262144}
kept=integration-tests/fuzz/corpus/"$target"
rm -rf "$kept" && mkdir -p "$kept"
used=0
while read -r size file; do
  (( used + size > budget )) && break
  cp "$minimised/$file" "$kept/" && used=$(( used + size ))
done < <(cd "$minimised" && find . -type f -printf '%s %P\n' | sort -n)
rm -rf "$minimised"
exit "${status:-0}"
