#!/usr/bin/env bash
# The real console in a real terminal: tmux runs `sluice` at 80x24 on a demo
# world, keys go in with send-keys, the screen comes back with capture-pane.
# Every wait is bounded; the tmux server is private and killed on exit.
set -u

if ! command -v tmux >/dev/null 2>&1; then
    echo "SKIP: tmux is not installed; the console's terminal test did not run"
    exit 0
fi
BIN=${SLUICE_BIN:?SLUICE_BIN must name the sluice binary}
SRC=${SLUICE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

WORK=$(mktemp -d /tmp/sluice-e2e-tui-XXXXXX)
SOCK="sluice-e2e-$$"
SESSION=console
cleanup() {
    tmux -L "$SOCK" kill-server >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    echo "---- screen ----"
    tmux -L "$SOCK" capture-pane -p -t "$SESSION" 2>/dev/null
    echo "----------------"
    exit 1
}

# The demo world: epoch folders and real Delta tables with a history.
"$BIN" demo "$WORK/demo" --no-open >"$WORK/demo.log" 2>&1 ||
    fail "sluice demo failed: $(cat "$WORK/demo.log")"
CONFIG="$WORK/demo/sluice.json"

export SLUICE_STATE_DIR="$WORK/state"
tmux -L "$SOCK" -f /dev/null new-session -d -s "$SESSION" -x 80 -y 24 \
    "env TERM=xterm-256color LANG=C.UTF-8 SLUICE_STATE_DIR='$SLUICE_STATE_DIR' \
     SLUICE_SOURCE_DIR='$SRC' SLUICE_OPERATOR=e2e NO_COLOR= \
     '$BIN' -c '$CONFIG' tui; echo \"sluice exited \$?\"; sleep 30" ||
    fail "tmux could not start"

screen() { tmux -L "$SOCK" capture-pane -p -t "$SESSION"; }
keys() { tmux -L "$SOCK" send-keys -t "$SESSION" "$@"; }
# wait_for TEXT: polls the screen up to 100 x 0.1 s.
wait_for() {
    for _ in $(seq 1 100); do
        if screen | grep -qF -- "$1"; then return 0; fi
        sleep 0.1
    done
    fail "'$1' did not appear on the screen"
}
wait_gone() {
    for _ in $(seq 1 100); do
        if ! screen | grep -qF -- "$1"; then return 0; fi
        sleep 0.1
    done
    fail "'$1' did not go away"
}

# The incident drill of issue 6 at 80x24, all from the console.
# Overview first: the failure is on its first line.
wait_for "pipeline failed"
wait_for "Alerts"
wait_for "q quit"
wait_for "│ e2e"
[ "$(screen | wc -l)" -eq 24 ] || fail "the screen is not 24 rows"
width() { screen | LC_ALL=C.UTF-8 wc -L; }
[ "$(width)" -le 80 ] || fail "a line is wider than 80 columns"
FAILED=$(screen | grep -o 'folder [0-9]* failed' | head -1 | awk '{print $2}')
[ -n "$FAILED" ] || fail "the Overview names no failed folder"

# Its run: Enter lists the pipeline's runs, f puts failed ones first, Enter
# opens the run with its error code and hint.
keys Enter
wait_for "Runs of orders"
keys f
wait_for "failed first"
keys Enter
wait_for "Error SL-EXPECTATION-FAILED in ingest of $FAILED"
wait_for "hint:"
BADFILE=$(screen | tr -d '\n' | grep -o "$FAILED/part-[0-9]*\.jsonl" | head -1)
[ -n "$BADFILE" ] || fail "the error names no file of $FAILED"

# The "failed ingest step" runbook: read, note, skip the folder, skip the
# retry step, run what waited.
keys 7
wait_for "[Runbooks]"
keys / 'Failed ingest' Enter
keys Enter
wait_for "step 1 of 5"
wait_for "$FAILED"
wait_for "runbook run started" # its audited start, before any step
keys a
wait_for "step 2 of 5"
keys a
wait_for "Record note"
keys 'bad row without order_id' Enter
keys Right Enter
wait_for "step 3 of 5"
# The folder's other files are good: skip this step and leave only the bad
# file out (Folders, :skip-file), then retry the folder from the runbook.
keys n
wait_for "Skip step 3"
keys 'one bad file: skipping only that file' Enter
keys Right Enter
wait_for "step 4 of 5"
keys 2
wait_for "[Folders]"
wait_for " failed "
wait_gone "loading"
keys : "skip-file ${BADFILE#*/}" Enter
wait_for "Type $BADFILE to confirm"
keys "$BADFILE" Enter
keys 'upstream sent a row without order_id' Enter
wait_for "> Cancel <"
keys Right
wait_for "> Skip file <"
keys Enter
wait_for "skipped file $BADFILE"
keys 7
wait_for "step 4 of 5"
keys a
wait_for "Retry run"
RUNID=$(screen | grep -o "Type [0-9a-f]* to confirm" | awk '{print $2}')
[ -n "$RUNID" ] || fail "the retry dialog names no run"
keys "$RUNID" Enter
keys 'retry without the bad file' Enter
keys Right
wait_for "> Retry <"
keys Enter
wait_for "Live run"
wait_for "retry succeeded"
keys Escape
wait_for "step 5 of 5"
keys a
wait_for "Type orders to confirm"
keys orders Enter
keys 'load what waited behind it' Enter
keys Right
wait_for "> Run <"
keys Enter
wait_for "Live run"
wait_for "folders processed"
wait_for "run succeeded"

# Restore the first table to its second-newest version from Tables: R
# opens the preview dialog (Cancel is the default), the target is typed,
# then a reason, then Right to the Restore button.
keys 4
wait_for "[Tables]"
wait_for "Protocol"
keys Enter
wait_for "Operation"
TABLE=$(screen | sed -n 2p | sed 's/.*› //' | awk '{print $1}')
[ -n "$TABLE" ] || fail "no table name in the breadcrumb"
keys j
keys R
wait_for "Type $TABLE@"
TARGET=$(screen | grep -o "Type $TABLE@[0-9]* to confirm" | awk '{print $2}')
VERSION=${TARGET#*@}
wait_for "[ Cancel ]"
keys "$TARGET" Enter
keys 'e2e restore drill' Enter
wait_for "> Cancel <"
keys Right
wait_for "> Restore <"
keys Enter
wait_for "restored $TABLE to version $VERSION"
wait_for "RESTORE"

# ? lists this view's own keys first, generated from the action table.
keys '?'
wait_for "In this view"
wait_for "What it does"
keys Escape
wait_for "Operation"

# Audit: a note through the `:` line, then v verifies the chain in the view.
keys 5
wait_for "[Audit]"
keys : 'note e2e was here' Enter
wait_for "note recorded"
wait_for "e2e was here"
keys v
wait_for "chain verified"

# Resize to 120x40: the layout follows.
tmux -L "$SOCK" resize-window -t "$SESSION" -x 120 -y 40 >/dev/null 2>&1 ||
    fail "tmux could not resize the window"
for _ in $(seq 1 100); do
    [ "$(screen | wc -l)" -eq 40 ] && break
    sleep 0.1
done
[ "$(screen | wc -l)" -eq 40 ] || fail "the pane did not grow to 40 rows"
wait_for "Reason"
for _ in $(seq 1 100); do
    # The status line sits on row 39 of 40 once the console has re-laid out.
    screen | sed -n 39p | grep -qF "│ e2e" && break
    sleep 0.1
done
screen | sed -n 39p | grep -qF "│ e2e" || fail "the status line did not move to row 39"
[ "$(width)" -gt 100 ] || fail "no line uses the wider screen"

# q asks; n cancels; q y quits.
keys q
wait_for "Quit sluice? [y/N]"
keys n
wait_for "quit cancelled"
keys q
wait_for "Quit sluice? [y/N]"
keys y
wait_for "sluice exited 0"

# Opening and closing the console were audited.
AUDIT=$("$BIN" -c "$CONFIG" audit list 2>&1)
echo "$AUDIT" | grep -q "session.close" || fail "no session.close in the audit log: $AUDIT"
echo "$AUDIT" | grep -q "e2e was here" || fail "the note is not in the audit log"
# The restore: committed as Delta's RESTORE, audited with operator and reason.
HIST=$("$BIN" -c "$CONFIG" history "$TABLE" --json 2>&1)
echo "$HIST" | grep -q '"operation": *"RESTORE"' || fail "no RESTORE in $TABLE's history: $HIST"
RESTORES=$("$BIN" -c "$CONFIG" audit list --action restore --json 2>&1)
echo "$RESTORES" | grep -q '"phase": *"succeeded"' || fail "no succeeded restore row: $RESTORES"
echo "$RESTORES" | grep -q '"reason": *"e2e restore drill"' || fail "the reason is not audited"
echo "$RESTORES" | grep -q '"operator": *"e2e"' || fail "the operator is not audited"
# The drill's fix, from the CLI: the failed folder is skipped, nothing is
# failed or pending any more, and the audit has who, why, before and after.
FOLDERS=$("$BIN" -c "$CONFIG" folders orders --json 2>&1)
echo "$FOLDERS" | python3 -c '
import json, sys
folders = {f["folder"]: f["state"] for f in json.load(sys.stdin)}
bad = sys.argv[1]
assert folders.get(bad) == "processed", ("the failed folder is", folders.get(bad))
left = sorted(f for f, s in folders.items() if s in ("failed", "pending"))
assert not left, ("still failed or pending", left)
' "$FAILED" || fail "folders after the drill: $FOLDERS"
SKIPS=$("$BIN" -c "$CONFIG" audit list --action skip-file --json 2>&1)
echo "$SKIPS" | python3 -c '
import json, sys
rows = json.load(sys.stdin)
done = [r for r in rows if r["phase"] == "succeeded"]
assert len(done) == 1, rows
r = done[0]
assert r["operator"] == "e2e" and r["reason"] == "upstream sent a row without order_id", r
assert r["target"] == sys.argv[2], r
assert sys.argv[2] in json.dumps(r["after_state"]), r
assert r["before_state"] and r["after_state"], r
assert sys.argv[2] not in json.dumps(r["before_state"]), r
' "$FAILED" "$BADFILE" || fail "the skip-file is not audited as expected: $SKIPS"
RETRIES=$("$BIN" -c "$CONFIG" audit list --action retry --json 2>&1)
echo "$RETRIES" | grep -q '"runbook_run"' || fail "the retry is not linked to the runbook run"
for a in runbook.start runbook.step run retry; do
    "$BIN" -c "$CONFIG" audit list --action $a --json 2>&1 | grep -q '"phase": *"succeeded"' ||
        fail "no succeeded $a row in the audit log"
done
echo "PASS: console in tmux at 80x24 and 120x40"
exit 0
