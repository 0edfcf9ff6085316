# SPDX-License-Identifier: GPL-2.0
# The busybox suite, files: ls -laR, stat, cat, readlink, ln -s, cp -a, mv, mkdir -p, rm -r,
# rmdir and their error messages.
# Like every suite script it works in a scratch directory of its own that mktemp creates under
# /tmp (two containers running the suite at once share /tmp; $$ is 1 in both) and removes, and
# prints only what is the same on every run: no dates, inode numbers, pids or scratch names.

# ls -la without the dates and the block totals.
lsl() {
	ls -la "$@" | awk '/^total / { next }
		NF < 9 { print; next }
		{ printf "%s %s %s %s %s", $1, $2, $3, $4, $5; for (i = 9; i <= NF; i++) printf " %s", $i; print "" }'
}

# Name, size, mode and type of everything under a directory, from inside it.
tree_stat() {
	(cd "$1" && find . | sort | xargs stat -c '%n %s %a %F')
}

d=$(mktemp -d /tmp/suite-files.XXXXXX) || exit 1
cd "$d" || exit 1
echo "root: $(cat /etc/hostname)"

mkdir -p tree/a/b/c tree/empty
echo one >tree/a/one.txt
printf 'two\nlines\n' >tree/a/b/two.txt
cp /data/hello.txt tree/hello.txt
chmod 600 tree/a/one.txt
chmod 751 tree/a/b
ln -s a/one.txt tree/link-to-one
ln -s ../.. tree/a/b/c/up
ln -s /data/hello.txt tree/abs-link
ln -s missing tree/dangling

echo "== ls -laR"
lsl -R tree
echo "== stat"
stat -c '%n %s %a %F' tree/a tree/a/one.txt tree/a/b tree/link-to-one tree/empty tree/dangling
stat -L -c '%n %s %a %F' tree/link-to-one tree/abs-link
echo "== cat"
cat tree/a/one.txt tree/a/b/two.txt tree/link-to-one tree/abs-link tree/a/b/c/up/one.txt
cat tree/dangling 2>&1
echo "cat dangling: $?"
echo "== readlink"
readlink tree/link-to-one
readlink tree/abs-link
readlink tree/dangling
readlink -f tree/a/b/c/up | sed "s|^$d|SCRATCH|"
readlink -f tree/abs-link
echo "== cp -a"
cp -a tree copy
lsl -R copy
tree_stat tree >tree.stat
tree_stat copy >copy.stat
cmp tree.stat copy.stat && echo "copy is the same"
rm tree.stat copy.stat
cp tree/a/one.txt tree/a/b/copied.txt
cat tree/a/b/copied.txt
echo "== mv"
mv copy/a/one.txt copy/a/b/moved.txt
mv copy/empty copy/renamed
mv tree/hello.txt tree/a
ls copy copy/a copy/a/b tree/a
mv nosuch elsewhere 2>&1
echo "mv missing: $?"
echo "== mkdir -p"
mkdir -p deep/x/y/z
mkdir -p deep/x/y/z && echo "mkdir -p again: $?"
mkdir deep 2>&1
echo "mkdir existing: $?"
mkdir no/such/parent 2>&1
echo "mkdir without parent: $?"
find deep | sort
echo "== rm -r"
rm -r copy
rm tree/dangling
rm -r deep/x/y
find deep | sort
rmdir deep/x deep
rmdir tree 2>&1
echo "rmdir non-empty: $?"
rm tree 2>&1
echo "rm directory: $?"
ls
echo "== missing files"
cat nosuch 2>&1
echo "cat missing: $?"
ls nosuch 2>&1
echo "ls missing: $?"

cd / && rm -r "$d" && test ! -e "$d" && echo "scratch removed"
echo "suite files: done"
