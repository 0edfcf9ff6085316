# SPDX-License-Identifier: GPL-2.0
# The busybox suite, text: sort, uniq, wc, head, tail, grep -r, sed -i, find -exec, md5sum, cut,
# tr, awk. (Scratch directory and output rules: see files.sh.)

d=$(mktemp -d /tmp/suite-text.XXXXXX) || exit 1
cd "$d" || exit 1

cp /data/fruits.txt /data/text.txt .
mkdir -p src/sub
seq 1 50 >src/numbers.txt
echo "needle in the hay" >src/sub/hay.txt
echo "nothing here" >src/other.txt
echo "another needle" >src/sub/more.txt

echo "== sort"
sort fruits.txt
sort -r fruits.txt | head -n 3
sort -u fruits.txt
sort -n -r src/numbers.txt | head -n 2
echo "== uniq"
sort fruits.txt | uniq -c
sort fruits.txt | uniq -d
echo "== wc"
wc -l fruits.txt
wc -w text.txt
wc -c text.txt
wc <text.txt
echo "== head and tail"
head -n 3 src/numbers.txt
tail -n 2 src/numbers.txt
tail -n +48 src/numbers.txt
head -c 9 text.txt
echo
echo "== grep"
grep -r needle src | sort
grep -rl needle src | sort
grep -c apple fruits.txt
grep -n the text.txt
grep -v e fruits.txt
grep -q kiwi fruits.txt && echo "found kiwi"
grep nothing-like-this fruits.txt
echo "grep without a match: $?"
grep x no-such-file 2>&1
echo "grep missing file: $?"
echo "== sed"
sed -i 's/apple/APPLE/g; /fig/d' fruits.txt
cat fruits.txt
sed -n '2,3p' text.txt
sed 's/o/0/2' text.txt
echo "== find -exec"
find src -name '*.txt' -exec wc -l {} \; | sort
find src -type d | sort
find src -type f -name 'h*' -exec cat {} +
find src -name '*.txt' -newer no-such-file 2>&1
echo "find bad -newer: $?"
echo "== md5sum"
md5sum fruits.txt text.txt src/numbers.txt
md5sum fruits.txt src/numbers.txt >sums
md5sum -c sums
echo changed >>src/numbers.txt
# (Its "WARNING:" line would read as a kernel warning to the guest log check.)
md5sum -c sums >check 2>&1
echo "md5sum -c after a change: $?"
sed 's/WARNING:/warning:/' check
echo "== cut tr awk"
echo "a:b:c" | cut -d: -f2
echo "hello" | tr a-z A-Z
awk '{ s += $1 } END { print "sum", s }' src/numbers.txt

cd / && rm -r "$d" && test ! -e "$d" && echo "scratch removed"
echo "suite text: done"
