#!/bin/sh
# Two sqlite3 writer processes inserting into one database at once: sqlite's POSIX record
# locks must exclude each other, or rows are lost or the database is corrupted.
db=/tmp/rvisor-writers.db
rm -f "$db" "$db-journal"
sqlite3 "$db" 'create table t(w integer, i integer);'
writer() {
	{
		echo '.timeout 60000'
		i=0
		while [ $i -lt 100 ]; do
			echo "insert into t values($1, $i);"
			i=$((i + 1))
		done
	} | sqlite3 "$db"
}
writer 1 &
writer 2 &
wait
echo "rows $(sqlite3 "$db" 'select count(*) from t;')"
echo "per writer $(sqlite3 "$db" 'select count(distinct i) from t where w = 1;') $(sqlite3 "$db" 'select count(distinct i) from t where w = 2;')"
echo "integrity $(sqlite3 "$db" 'pragma integrity_check;')"
rm -f "$db"
echo "sqlite writers: done"
