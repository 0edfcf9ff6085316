# SPDX-License-Identifier: GPL-2.0
# Debian's shell and tools, as a script of theirs would use them. Run by bash natively
# (chroot /debian) and contained; the outputs must be the same.
set -u
export PATH=/usr/local/bin:/usr/bin:/bin LC_ALL=C
work=$(mktemp -d /tmp/tools.XXXXXX)
echo "bash ${BASH_VERSINFO[0]}.${BASH_VERSINFO[1]}"
for i in 1 2 3; do printf '%s ' "$i"; done; echo
x=$(echo sub | tr a-z A-Z); echo "substitution $x"
(exit 3); echo "subshell status $?"
declare -A fruit=([apple]=red [banana]=yellow); echo "assoc ${fruit[banana]}"
echo "a b c" | sed 's/b/B/' | grep -c B
mkdir -p "$work/d/e" && echo data > "$work/d/e/f" && find "$work/d" -type f | sed "s|$work||"
tar -C "$work" -czf "$work/d.tgz" d && tar -tzf "$work/d.tgz" | sort
xz -c "$work/d/e/f" | xz -dc
bzip2 -c "$work/d/e/f" | bzip2 -dc
echo "sqlite3 $(echo 'select 6*7;' | sqlite3 :memory:)"
lua5.4 -e 'print(string.format("lua %d", 6*7))'
seq 1 5 | sort -rn | head -2 | tr '\n' ' '; echo
sha256sum "$work/d/e/f" | cut -d' ' -f1
stat -c '%s %F' "$work/d/e/f"
echo "nproc $(nproc)"
ls -l "$work/d/e/f" | cut -d' ' -f1,5
cp -a "$work/d" "$work/copy" && ls -la "$work/copy/e" | wc -l
sleep 0.1 & wait $!; echo "background job status $?"
set -m
sleep 2 &
kill -STOP %1
sleep 0.3
jobs
kill -CONT %1
jobs
wait
echo "job control: wait status $?"
set +m
coproc cat; echo ping >&"${COPROC[1]}"; read -r reply <&"${COPROC[0]}"; echo "coproc $reply"
exec {fd}<"$work/d/e/f"; read -r line <&"$fd"; exec {fd}<&-; echo "fd $line"
trap 'echo trapped USR1' USR1; kill -USR1 $$; echo "after trap"
rm -r "$work"
echo "tools: done"
