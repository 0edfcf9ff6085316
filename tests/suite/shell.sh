# SPDX-License-Identifier: GPL-2.0
# The busybox suite, the shell: pipes, redirections (>, >>, 2>&1, <, here-documents, other
# fds), read, subshells and command substitution, & and wait, exit statuses ($?, set -e, a
# command that is missing or not executable) and the script's own `exit 3`, which `rvisor run`
# must pass on.
# (Scratch directory and output rules: see files.sh.)

d=$(mktemp -d /tmp/suite-shell.XXXXXX) || exit 1
cd "$d" || exit 1

echo "== pipes"
seq 1 20 | grep 1 | sort -r | head -n 3
yes | head -n 2
echo "a b c" | tr ' ' '\n' | wc -l
seq 1 3000 | cat | cat | tail -n 1
echo "== redirections"
echo first >f
echo second >>f
cat f
wc -l <f
ls nosuch >err 2>&1
echo "ls status: $?"
cat err
{ echo out; echo err >&2; } >both 2>&1
cat both
{ echo out; echo err >&2; } 2>only-err >only-out
cat only-out only-err
exec 4>fd4
echo "through fd 4" >&4
exec 4>&-
cat fd4
: >empty
wc -c <empty
name=here
cat <<END
a here-document from $name
END
cat <<'END'
quoted: $name stays
END
echo "== read"
echo "one two three" | { read -r a b; echo "a=$a b=$b"; }
printf 'x\ny\nz\n' >lines
while read -r line; do echo "line $line"; done <lines
read -r first <lines
echo "first: $first"
read -r nothing <empty
echo "read at end of file: $?"
echo "== subshells"
x=outer
(x=inner; echo "in the subshell x=$x"; exit 4)
echo "subshell status $? x=$x"
y=$(echo captured; echo two)
echo "$y"
echo "nested $(echo "$(echo deep)")"
(cd / && pwd)
pwd | sed "s|^$d|SCRATCH|"
echo "== background and wait"
(echo job1 >j1) &
p1=$!
(sleep 0.2; echo job2 >j2) &
p2=$!
(exit 5) &
p3=$!
wait $p1
echo "job1 status $?"
wait $p2
echo "job2 status $?"
wait $p3
echo "job3 status $?"
cat j1 j2
for i in 1 2 3; do (echo "background $i" >bg.$i) & done
wait
echo "wait for all: $?"
cat bg.1 bg.2 bg.3
echo "== exit statuses"
true
echo "true: $?"
false
echo "false: $?"
sh -c 'exit 3'
echo "sh -c 'exit 3': $?"
no-such-command 2>&1
echo "missing command: $?"
./f 2>&1
echo "not executable: $?"
(set -e; true; false; echo "not reached")
echo "set -e subshell: $?"
(set -e; if false; then :; fi; false || true; echo "set -e spares conditions")
sh -ec 'echo before; false; echo after'
echo "sh -e: $?"
! false
echo "negated: $?"
false && echo "and-list" || echo "or-list"

cd / && rm -r "$d" && test ! -e "$d" && echo "scratch removed"
echo "suite shell: done"
exit 3
