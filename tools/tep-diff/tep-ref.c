/*
 * tep-ref: prints events with the real libtraceevent, for differential testing of
 * rtrace-cmd's event printer (tracedat::tep). Our own code; it links libtraceevent at test
 * time only.
 *
 * Usage: tep-ref BUNDLE RECORDS
 *   BUNDLE is a text file of lines:
 *     endian 0|1          (file byte order: 1 = big)
 *     long 4|8            (tep_set_long_size)
 *     kallsyms PATH       (optional)
 *     printk PATH         (optional)
 *     format SYSTEM PATH  (one per format file, in order)
 *   RECORDS is a sequence of records: u32 (little-endian) size, then the bytes.
 *
 * Output, one line each:
 *   E <id> <system> <name> <failed 0|1>             for every event, in id order
 *   F <id> <type>|<name>|<off>|<size>|<arraylen>|<elsize>|<flags>   for every field
 *   P <n> <escaped info>                               tep_print_event TEP_PRINT_INFO
 *   R <n> <escaped raw info>                           TEP_PRINT_INFO_RAW (-R)
 * A record whose printing crashes the library, or runs for more than 3 seconds, prints
 * "<CRASH>" as its text.
 *
 * Each record is copied to the start of a zeroed 64 KiB mapping at a fixed address
 * (0x7e0000000000) followed by an inaccessible page, so reads past a record see zeros and
 * host pointers into it are reproducible.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <traceevent/event-parse.h>
#include <traceevent/trace-seq.h>

#define DATA_BASE ((void *)0x7e0000000000UL)
#define DATA_SIZE (64 * 1024)

static sigjmp_buf crash_jmp;

static void on_crash(int sig)
{
	(void)sig;
	siglongjmp(crash_jmp, 1);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f) {
		perror(path);
		exit(2);
	}
	do {
		if (n + 65536 + 1 > cap) {
			cap = (n + 65536 + 1) * 2;
			buf = realloc(buf, cap);
			if (!buf)
				exit(3);
		}
		r = fread(buf + n, 1, 65536, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

static void put_escaped(const char *s, int len)
{
	for (int i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c == '\\')
			fputs("\\\\", stdout);
		else if (c >= 0x20 && c < 0x7f)
			putchar(c);
		else
			printf("\\x%02x", c);
	}
	putchar('\n');
}

static void print_one(struct tep_handle *tep, struct tep_record *rec, const char *what, char tag, int n)
{
	struct trace_seq s;
	volatile int crashed = 0;

	trace_seq_init(&s);
	if (sigsetjmp(crash_jmp, 1) == 0) {
		/* a huge printf width makes trace_seq grow 4 KiB at a time: treat as a crash */
		alarm(3);
		tep_print_event(tep, &s, rec, "%s", what);
		alarm(0);
	} else {
		alarm(0);
		crashed = 1;
	}
	printf("%c %d ", tag, n);
	if (crashed)
		put_escaped("<CRASH>", 7);
	else
		put_escaped(s.buffer, s.len);
	/* a crash may leave the seq inconsistent: leak it rather than free garbage */
	if (!crashed)
		trace_seq_destroy(&s);
}

int main(int argc, char **argv)
{
	struct tep_handle *tep;
	struct tep_event **events;
	char line[8192];
	size_t len;
	FILE *b;
	char *recs;
	size_t nrecs;
	size_t pos;
	int n = 0;
	void *map;

	if (argc != 3) {
		fprintf(stderr, "usage: %s BUNDLE RECORDS\n", argv[0]);
		return 2;
	}
	tep = tep_alloc();
	tep_set_local_bigendian(tep, TEP_LITTLE_ENDIAN);
	tep_load_plugins(tep);

	b = fopen(argv[1], "r");
	if (!b) {
		perror(argv[1]);
		return 2;
	}
	while (fgets(line, sizeof(line), b)) {
		char sys[256], path[4096];
		int v;

		line[strcspn(line, "\n")] = 0;
		if (sscanf(line, "endian %d", &v) == 1) {
			tep_set_file_bigendian(tep, v ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
		} else if (sscanf(line, "long %d", &v) == 1) {
			tep_set_long_size(tep, v);
		} else if (sscanf(line, "kallsyms %4095s", path) == 1) {
			char *t = slurp(path, &len);
			tep_parse_kallsyms(tep, t);
			free(t);
		} else if (sscanf(line, "printk %4095s", path) == 1) {
			char *t = slurp(path, &len);
			tep_parse_printk_formats(tep, t);
			free(t);
		} else if (sscanf(line, "format %255s %4095s", sys, path) == 2) {
			char *t = slurp(path, &len);
			tep_parse_event(tep, t, len, sys);
			free(t);
		}
	}
	fclose(b);

	events = tep_list_events(tep, TEP_EVENT_SORT_ID);
	for (int i = 0; events && events[i]; i++) {
		struct tep_event *e = events[i];
		struct tep_format_field *f;

		/* plugin helpers stay registered, their event handlers are bypassed */
		e->flags |= TEP_EVENT_FL_NOHANDLE;
		printf("E %d %s %s %d\n", e->id, e->system, e->name, !!(e->flags & TEP_EVENT_FL_FAILED));
		for (int pass = 0; pass < 2; pass++) {
			f = pass ? e->format.fields : e->format.common_fields;
			for (; f; f = f->next)
				printf("F %d %s|%s|%d|%d|%u|%u|%lu\n", e->id, f->type, f->name,
				       f->offset, f->size, f->arraylen, f->elementsize,
				       f->flags & 0x13f);
		}
	}
	fflush(stdout);

	map = mmap(DATA_BASE, DATA_SIZE + 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (map != DATA_BASE) {
		perror("mmap");
		return 2;
	}
	mprotect((char *)map + DATA_SIZE, 4096, PROT_NONE);
	signal(SIGSEGV, on_crash);
	signal(SIGFPE, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGALRM, on_crash);

	recs = slurp(argv[2], &nrecs);
	for (pos = 0; pos + 4 <= nrecs; n++) {
		unsigned int sz;
		struct tep_record rec;

		memcpy(&sz, recs + pos, 4);
		pos += 4;
		if (sz > DATA_SIZE || pos + sz > nrecs)
			break;
		memset(map, 0, DATA_SIZE);
		memcpy(map, recs + pos, sz);
		pos += sz;
		memset(&rec, 0, sizeof(rec));
		rec.data = map;
		rec.size = sz;
		print_one(tep, &rec, TEP_PRINT_INFO, 'P', n);
		print_one(tep, &rec, TEP_PRINT_INFO_RAW, 'R', n);
		fflush(stdout);
	}
	return 0;
}
