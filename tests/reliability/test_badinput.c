/* The bad-input table generated from the headers (gen_badinput.py): every
 * public function called with valid arguments, then with one argument
 * mutated at a time. Each case runs in its own process (a crash or a hang
 * of one case is reported, not fatal) and must satisfy:
 *   - no crash (scripts/test runs this under ASan+UBSan) and no hang (5 s);
 *   - a refusal's message starts with "<the called function>:", sets berg_last_status() to the
 *     returned status, leaves every output untouched (sentinel-filled
 *     buffers, in-out arrays as they were), *out as the caller set it, and
 *     the state of a Bayes, Fisher-accumulator or W2-metric handle it was
 *     to change as it was;
 *   - a success with finite inputs gives finite outputs.
 * Reported, not failed: refusals whose message does not name the mutated
 * argument, NULL accepted for a parameter whose doc does not say NULL, and
 * non-finite outputs of linear flows fed a NaN/inf input (documented as
 * propagating). Cases listed in badinput_known.txt (defects filed in
 * /tmp/berg-spec/bugs.md, one per line "function | parameter | mutation")
 * are expected failures until fixed (a line ending in "| hang" is not run
 * unless BERG_BADINPUT_ALL=1: it would cost the 5 s alarm); BERG_BADINPUT_ONLY=fn
 * runs one function, BERG_BADINPUT_BASELINE=1 only the valid calls. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berg.h"
#include "badinput_driver.h"

/* under ASan: an impossible allocation returns NULL (as malloc does)
 * instead of aborting, so the library's NOMEM path is what is tested */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

static int name_in(const char *msg, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(msg, name); p; p = strstr(p + 1, name)) {
        int before = p == msg || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') ||
                                   (p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= '0' && p[-1] <= '9'));
        char c = p[n];
        int after = !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9'));
        if (before && after)
            return 1;
    }
    return 0;
}

static char *known_text;

/* 0 not listed, 1 listed, 2 listed as a hang (not run unless BERG_BADINPUT_ALL=1) */
static int is_known(const bi_case *c)
{
    char key[256];
    int n = snprintf(key, sizeof key, "%s | %s | %s", c->fn, c->param[0] ? c->param : "-",
                     c->mutation);
    for (const char *p = known_text ? strstr(known_text, key) : NULL; p; p = strstr(p + 1, key)) {
        if ((p == known_text || p[-1] == '\n') && p[n] == '\n')
            return 1;
        if ((p == known_text || p[-1] == '\n') && !strncmp(p + n, " | hang\n", 8))
            return 2;
    }
    return 0;
}

static void load_known(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    known_text = calloc(1 << 20, 1);
    size_t n = fread(known_text, 1, (1 << 20) - 2, f);
    known_text[n] = '\n';
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        load_known(argv[1]);
    const char *only = getenv("BERG_BADINPUT_ONLY");
    size_t ncase = 0, refused = 0, ok = 0, crashed = 0, hung = 0, bad = 0, known = 0, fixed = 0;
    size_t no_arg_name = 0, null_accepted = 0, propagated = 0, baseline_refused = 0;
    for (size_t i = 0; i < bi_ncases; i++) {
        const bi_case *c = &bi_cases[i];
        if ((only && strcmp(only, c->fn) != 0) || (getenv("BERG_BADINPUT_BASELINE") && c->mut))
            continue;
        int listed = is_known(c);
        if (listed == 2 && !getenv("BERG_BADINPUT_ALL")) {
            known++;
            printf("known hang, not run: %s(%s = %s)\n", c->fn, c->param, c->mutation);
            continue;
        }
        int fd[2];
        if (pipe(fd) != 0)
            return 2;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            close(fd[0]);
            alarm(5);
            bi_result r;
            memset(&r, 0, sizeof r);
            c->run(c->mut, &r);
            ssize_t w = write(fd[1], &r, sizeof r);
            _exit(w == (ssize_t)sizeof r ? 0 : 3);
        }
        close(fd[1]);
        bi_result r;
        memset(&r, 0, sizeof r);
        ssize_t got = read(fd[0], &r, sizeof r);
        close(fd[0]);
        int wst = 0;
        waitpid(pid, &wst, 0);
        ncase++;
        char problem[400] = "";
        int nonfinite_input = strstr(c->mutation, "NaN") || strstr(c->mutation, "inf");
        if (got != (ssize_t)sizeof r || !WIFEXITED(wst) || WEXITSTATUS(wst) != 0) {
            int hang = WIFSIGNALED(wst) && WTERMSIG(wst) == SIGALRM;
            hung += hang;
            crashed += !hang;
            snprintf(problem, sizeof problem, "%s", hang ? "hang (> 5 s)" : "crash");
        } else if (r.status != BERG_OK) {
            refused++;
            if (c->mut == 0) {
                baseline_refused++;
                printf("note: the valid call of %s was refused: %s\n", c->fn, r.msg);
            }
            size_t fl = strlen(c->fn);
            if (strncmp(r.msg, c->fn, fl) != 0 || r.msg[fl] != ':')
                snprintf(problem, sizeof problem, "refusal does not start with \"%s:\": \"%s\"",
                         c->fn, r.msg);
            else if (r.last_status != r.status)
                snprintf(problem, sizeof problem, "returned %d but berg_last_status() is %d",
                         r.status, r.last_status);
            else if (r.touched)
                snprintf(problem, sizeof problem, "output written on failure (%s)", r.msg);
            else if (r.state_changed)
                snprintf(problem, sizeof problem, "the handle's state changed on failure (%s)",
                         r.msg);
            else if (r.handle_escaped)
                snprintf(problem, sizeof problem, "*out changed on failure (%s)", r.msg);
            if (!problem[0] && c->mut != 0 && c->param[0] && !name_in(r.msg, c->param)) {
                no_arg_name++;
                printf("note: %s(%s = %s): message does not name '%s': %s\n", c->fn, c->param,
                       c->mutation, c->param, r.msg);
            }
        } else {
            ok++;
            if (r.nonfinite && nonfinite_input)
                propagated++;
            else if (r.nonfinite)
                snprintf(problem, sizeof problem, "success with a non-finite output");
            if (!strcmp(c->mutation, "NULL") && !c->optional && !problem[0]) {
                null_accepted++;
                printf("note: %s(%s = NULL) accepted; its doc does not say NULL\n", c->fn,
                       c->param);
            }
        }
        if (problem[0] && listed) {
            known++;
            printf("known: %s(%s = %s): %s\n", c->fn, c->param, c->mutation, problem);
        } else if (problem[0]) {
            bad++;
            printf("FAIL %s(%s = %s): %s\n", c->fn, c->param[0] ? c->param : "-", c->mutation,
                   problem);
        } else if (listed) {
            fixed++;
            printf("fixed (remove from badinput_known.txt): %s | %s | %s\n", c->fn,
                   c->param[0] ? c->param : "-", c->mutation);
        }
    }
    printf("badinput: %zu functions, %zu cases: %zu refused, %zu succeeded; %zu crashes, %zu hangs, "
           "%zu failed checks, %zu known defects, %zu fixed since listed; notes: %zu baseline calls "
           "refused, %zu refusals not naming the argument, %zu NULLs accepted without a doc, %zu "
           "NaN/inf inputs propagated by a success\n",
           bi_nfunctions, ncase, refused, ok, crashed, hung, bad, known, fixed, baseline_refused,
           no_arg_name, null_accepted, propagated);
    return (crashed + hung + bad) ? 1 : 0;
}
