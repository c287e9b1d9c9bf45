// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * filter-oracle: runs the cases of tracedat/tests/data/filter/ case files through the real
 * libtraceevent (tep_filter_add_filter_str, tep_filter_make_string, tep_filter_match) and
 * glibc's regcomp/regexec, printing what they answer in the format tracedat's
 * tests/filter_oracle.rs prints for rtrace-cmd's implementation. Written for this project
 * against libtraceevent's public API; see tools/filter-oracle/README.md.
 *
 * Input, one directive per line (HEX fields are bytes in hex):
 *   # comment                      copied to the output
 *   endian little|big              byte order of the records (default little)
 *   format SYSTEM                  a format file follows, up to a line "end"
 *   comm PID NAME                  tep_register_comm
 *   func HEXADDR NAME              tep_register_function
 *   record NAME CPU HEX            defines a record (data from common_type on)
 *   filter TEXT | filterx HEX      adds a filter, then a line "test NAME..." may follow:
 *                                  tep_filter_match on those records
 *   subjects HEX...                the strings regexes are tried on
 *   regex TEXT | regexx HEX        regcomp(REG_ICASE | REG_NOSUB), then regexec on every
 *                                  subject: "= ok 0110..." or "= error"
 * Every filter runs in a child process, so that one libtraceevent crashes on ends as the
 * single line "= CRASH".
 *
 * free() is a no-op here: libtraceevent frees some filter nodes twice on its error paths
 * (e.g. a parenthesised expression followed by an operator), after which glibc either aborts
 * or hands out the same memory twice and the next event of the same filter is parsed from
 * corrupted nodes. Without reuse, every answer is the one the C code defines; what real
 * trace-cmd does there (abort, or a different rejection) is undefined behaviour.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <traceevent/event-parse.h>

void free(void *p)
{
	(void)p;
}

struct line {
	char *text;
};

static struct line *lines;
static int nr_lines;

static void die(const char *msg)
{
	fprintf(stderr, "filter-oracle: %s\n", msg);
	exit(2);
}

static char *unhex(const char *s, size_t *len)
{
	size_t n = strlen(s) / 2, i;
	char *out = malloc(n + 1);

	if (!out)
		die("out of memory");
	for (i = 0; i < n; i++) {
		unsigned int b;
		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			die("bad hex");
		out[i] = (char)b;
	}
	out[n] = 0;
	if (len)
		*len = n;
	return out;
}

static const char *errno_name(int e)
{
	switch (e) {
#define N(x) case TEP_ERRNO__##x: return #x;
	N(SUCCESS) N(MEM_ALLOC_FAILED) N(PARSE_EVENT_FAILED) N(READ_ID_FAILED)
	N(READ_FORMAT_FAILED) N(READ_PRINT_FAILED) N(OLD_FTRACE_ARG_FAILED)
	N(INVALID_ARG_TYPE) N(INVALID_EXP_TYPE) N(INVALID_OP_TYPE) N(INVALID_EVENT_NAME)
	N(EVENT_NOT_FOUND) N(SYNTAX_ERROR) N(ILLEGAL_RVALUE) N(ILLEGAL_LVALUE)
	N(INVALID_REGEX) N(ILLEGAL_STRING_CMP) N(ILLEGAL_INTEGER_CMP) N(REPARENT_NOT_OP)
	N(REPARENT_FAILED) N(BAD_FILTER_ARG) N(UNEXPECTED_TYPE) N(ILLEGAL_TOKEN)
	N(INVALID_PAREN) N(UNBALANCED_PAREN) N(UNKNOWN_TOKEN) N(FILTER_NOT_FOUND)
	N(NOT_A_NUMBER) N(NO_FILTER) N(FILTER_MISS)
#undef N
	default: return "?";
	}
}

/* Prints a string with every byte outside printable ASCII (and the backslash) as \xNN. */
static void put_escaped(const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;
		if (c < 0x20 || c >= 0x7f || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

struct rec {
	char *name;
	int cpu;
	char *data;
	size_t len;
};

static struct rec *recs;
static int nr_recs;

static char **subjects;
static int nr_subjects;

static void run_filter(struct tep_handle *tep, const char *text, const char *tests)
{
	struct tep_event_filter *filter;
	char *list, *name, *save;
	int ret, i;

	setvbuf(stdout, NULL, _IONBF, 0);
	filter = tep_filter_alloc(tep);
	if (!filter)
		die("tep_filter_alloc");
	/* -T output goes to stdout as " 'name: filter'" lines */
	tep_set_test_filters(tep, 1);
	ret = tep_filter_add_filter_str(filter, text);
	tep_set_test_filters(tep, 0);
	printf("= %s\n", errno_name(ret));
	if (ret < 0) {
		/* the error buffer (show_error) when there is one */
		if (filter->error_buffer[0]) {
			printf("E ");
			put_escaped(filter->error_buffer);
			printf("\n");
		}
		return;
	}
	if (!tests)
		return;
	list = strdup(tests);
	for (name = strtok_r(list, " ", &save); name; name = strtok_r(NULL, " ", &save)) {
		struct tep_record rec;

		for (i = 0; i < nr_recs; i++)
			if (!strcmp(recs[i].name, name))
				break;
		if (i == nr_recs)
			die("unknown record");
		memset(&rec, 0, sizeof(rec));
		rec.cpu = recs[i].cpu;
		rec.data = recs[i].data;
		rec.size = recs[i].len;
		ret = tep_filter_match(filter, &rec);
		printf("R %s -> %s\n", name, errno_name(ret));
	}
}

int main(int argc, char **argv)
{
	struct tep_handle *tep;
	char *l = NULL;
	size_t cap = 0;
	ssize_t n;
	int i;

	(void)argc;
	(void)argv;
	while ((n = getline(&l, &cap, stdin)) > 0) {
		if (l[n - 1] == '\n')
			l[--n] = 0;
		lines = realloc(lines, sizeof(*lines) * (nr_lines + 1));
		if (!lines)
			die("out of memory");
		lines[nr_lines++].text = strdup(l);
	}

	tep = tep_alloc();
	if (!tep)
		die("tep_alloc");
	tep_set_long_size(tep, 8);
	tep_set_page_size(tep, 4096);

	for (i = 0; i < nr_lines; i++) {
		char *t = lines[i].text;

		if (t[0] == '#' || t[0] == 0) {
			printf("%s\n", t);
		} else if (!strncmp(t, "endian ", 7)) {
			tep_set_file_bigendian(tep, strcmp(t + 7, "big") ? TEP_LITTLE_ENDIAN
								     : TEP_BIG_ENDIAN);
			printf("%s\n", t);
		} else if (!strncmp(t, "format ", 7)) {
			char *sys = t + 7;
			char *body = NULL;
			size_t blen = 0;
			int ret;

			for (i++; i < nr_lines && strcmp(lines[i].text, "end"); i++) {
				size_t ll = strlen(lines[i].text);
				body = realloc(body, blen + ll + 2);
				memcpy(body + blen, lines[i].text, ll);
				blen += ll;
				body[blen++] = '\n';
				body[blen] = 0;
			}
			ret = tep_parse_event(tep, body, blen, sys);
			if (ret)
				die("tep_parse_event failed");
			free(body);
			printf("format %s\n", sys);
		} else if (!strncmp(t, "comm ", 5)) {
			int pid;
			char name[64];
			if (sscanf(t, "comm %d %63s", &pid, name) != 2)
				die("bad comm line");
			tep_register_comm(tep, name, pid);
			printf("%s\n", t);
		} else if (!strncmp(t, "func ", 5)) {
			unsigned long long addr;
			char name[128];
			if (sscanf(t, "func %llx %127s", &addr, name) != 2)
				die("bad func line");
			tep_register_function(tep, name, addr, NULL);
			printf("%s\n", t);
		} else if (!strncmp(t, "record ", 7)) {
			char name[64], hex[16384];

			recs = realloc(recs, sizeof(*recs) * (nr_recs + 1));
			if (!recs || sscanf(t, "record %63s %d %16383s", name, &recs[nr_recs].cpu, hex) != 3)
				die("bad record line");
			recs[nr_recs].name = strdup(name);
			recs[nr_recs].data = unhex(hex, &recs[nr_recs].len);
			nr_recs++;
			printf("%s\n", t);
		} else if (!strncmp(t, "filter ", 7) || !strncmp(t, "filterx ", 8)) {
			char *text = t[6] == 'x' ? unhex(t + 8, NULL) : strdup(t + 7);
			const char *tests = NULL;
			pid_t child;
			int status;

			printf("%s\n", t);
			if (i + 1 < nr_lines && !strncmp(lines[i + 1].text, "test ", 5)) {
				tests = lines[++i].text + 5;
				printf("%s\n", lines[i].text);
			}
			fflush(stdout);
			child = fork();
			if (child < 0)
				die("fork");
			if (!child) {
				run_filter(tep, text, tests);
				fflush(stdout);
				_exit(0);
			}
			if (waitpid(child, &status, 0) < 0)
				die("waitpid");
			if (WIFSIGNALED(status))
				printf("= CRASH\n");
		} else if (!strncmp(t, "subjects", 8)) {
			char *list = strdup(t + 8), *h, *save;

			for (h = strtok_r(list, " ", &save); h; h = strtok_r(NULL, " ", &save)) {
				subjects = realloc(subjects, sizeof(*subjects) * (nr_subjects + 1));
				if (!subjects)
					die("out of memory");
				subjects[nr_subjects++] = unhex(h, NULL);
			}
			printf("%s\n", t);
		} else if (!strncmp(t, "regex ", 6) || !strncmp(t, "regexx ", 7)) {
			char *pat = t[5] == 'x' ? unhex(t + 7, NULL) : strdup(t + 6);
			regex_t reg;
			int j;

			printf("%s\n", t);
			if (regcomp(&reg, pat, REG_ICASE | REG_NOSUB)) {
				printf("= error\n");
				continue;
			}
			printf("= ok ");
			for (j = 0; j < nr_subjects; j++)
				putchar(regexec(&reg, subjects[j], 0, NULL, 0) ? '0' : '1');
			printf("\n");
			regfree(&reg);
		} else {
			fprintf(stderr, "filter-oracle: unknown directive: %s\n", t);
			exit(2);
		}
	}
	return 0;
}
