# SPDX-License-Identifier: GPL-2.0
# The busybox suite, archives: tar c | tar x, tar with gzip, gzip, gunzip, zcat, md5sum of what
# comes back. (Scratch directory and output rules: see files.sh.)

d=$(mktemp -d /tmp/suite-archive.XXXXXX) || exit 1
cd "$d" || exit 1

mkdir -p src/dir/sub
cp /data/*.txt src/
cp -a /data/nested src/dir/
seq 1 2000 >src/dir/sub/big.txt
chmod 640 src/dir/sub/big.txt
ln -s ../hello.txt src/dir/link

echo "== tar c | tar x"
tar cf - src | (mkdir out && cd out && tar xf -)
diff -r src out/src && echo "extracted tree is the same"
find out | sort | xargs stat -c '%n %s %a %F'
readlink out/src/dir/link
tar cf archive.tar src
tar tf archive.tar | sort
echo "== tar with gzip"
tar czf archive.tgz src
mkdir z
tar xzf archive.tgz -C z
diff -r src z/src && echo "tgz tree is the same"
echo "== gzip and gunzip"
cp src/dir/sub/big.txt big.txt
md5sum big.txt
gzip big.txt
ls big*
gunzip big.txt.gz
ls big*
md5sum big.txt
gzip -c big.txt | gunzip -c | md5sum
gzip -c big.txt >big.gz
zcat big.gz | tail -n 1
gunzip <big.gz | wc -l
echo "not gzip data" >bad.gz
gunzip bad.gz 2>&1
echo "gunzip of garbage: $?"

cd / && rm -r "$d" && test ! -e "$d" && echo "scratch removed"
echo "suite archive: done"
