// SPDX-License-Identifier: GPL-2.0
/* cow: fork's copy-on-write. After the fork the child and the parent each write their own values
 * into a global, a stack buffer, a heap buffer, a heap block larger than a page and a private
 * anonymous mapping; then each prints what it sees. A shared anonymous mapping is the control:
 * there the child's write must show in the parent. Two pipes order the steps so that both have
 * written before either reads, and the output is the same on every run. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG (3 * 4096 + 100)

static int global = 1;

/* A small sum that changes with every byte's value and place. */
static unsigned sum(const unsigned char *p, size_t n)
{
	unsigned s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s = s * 31 + p[i];
	return s;
}

static void fill(unsigned char *p, size_t n, unsigned char seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7);
}

static void show(const char *who, const char *stack, const char *heap, const unsigned char *big,
		 const char *priv, const char *shared)
{
	printf("%s: global=%d stack=%s heap=%s big=%u private=%s shared=%s\n", who, global, stack,
	       heap, sum(big, BIG), priv, shared);
}

static void must(int ok, const char *what)
{
	if (!ok) {
		perror(what);
		exit(1);
	}
}

int main(void)
{
	char stack[32];
	char *heap = malloc(32);
	unsigned char *big = malloc(BIG);
	char *priv = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int to_parent[2], to_child[2], status;
	char token;
	pid_t child;

	setvbuf(stdout, NULL, _IOLBF, 0);
	must(heap && big && priv != MAP_FAILED && shared != MAP_FAILED, "allocation");
	must(pipe(to_parent) == 0 && pipe(to_child) == 0, "pipe");
	strcpy(stack, "before");
	strcpy(heap, "before");
	fill(big, BIG, 1);
	strcpy(priv + 4096, "before");
	strcpy(shared, "before");
	show("before fork", stack, heap, big, priv + 4096, shared);
	child = fork();
	must(child >= 0, "fork");
	if (child == 0) {
		global = 2;
		strcpy(stack, "child");
		strcpy(heap, "child");
		fill(big, BIG, 2);
		strcpy(priv + 4096, "child");
		strcpy(shared, "child");
		must(write(to_parent[1], "c", 1) == 1, "write");
		must(read(to_child[0], &token, 1) == 1, "read");
		show("child", stack, heap, big, priv + 4096, shared);
		_exit(7);
	}
	global = 3;
	strcpy(stack, "parent");
	strcpy(heap, "parent");
	fill(big, BIG, 3);
	strcpy(priv + 4096, "parent");
	must(read(to_parent[0], &token, 1) == 1, "read");
	must(write(to_child[1], "p", 1) == 1, "write");
	must(waitpid(child, &status, 0) == child, "waitpid");
	show("parent", stack, heap, big, priv + 4096, shared);
	printf("child exit status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	printf("cow: done\n");
	return 0;
}
