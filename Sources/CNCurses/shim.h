#ifndef CNCURSES_SHIM_H
#define CNCURSES_SHIM_H
// The wide-character API must be switched on before the header is read, or
// add_wch/get_wch and cchar_t vanish and wide characters break.
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#define NCURSES_WIDECHAR 1
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>
#include <ncursesw/curses.h>
#include <ncursesw/term.h>

// Swift 6 cannot touch these C globals and macros safely; small functions can.
static inline WINDOW *cn_stdscr(void) { return stdscr; }
static inline int cn_lines(void) { return LINES; }
static inline int cn_cols(void) { return COLS; }
static inline int cn_colors(void) { return COLORS; }
static inline int cn_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t cn_color_pair(short n) { return COLOR_PAIR(n); }
static inline attr_t cn_a_bold(void) { return A_BOLD; }
static inline attr_t cn_a_reverse(void) { return A_REVERSE; }
static inline attr_t cn_a_underline(void) { return A_UNDERLINE; }
static inline attr_t cn_a_dim(void) { return A_DIM; }
static inline attr_t cn_a_normal(void) { return A_NORMAL; }
static inline int cn_key_resize(void) { return KEY_RESIZE; }
static inline int cn_err(void) { return ERR; }
static inline int cn_wcwidth(wchar_t c) { return wcwidth(c); }
static inline int cn_key_code_yes(void) { return KEY_CODE_YES; }
static inline int cn_key_mouse(void) { return KEY_MOUSE; }
static inline mmask_t cn_wheel_up(void) { return BUTTON4_PRESSED; }
#ifdef BUTTON5_PRESSED
static inline mmask_t cn_wheel_down(void) { return BUTTON5_PRESSED; }
#else
static inline mmask_t cn_wheel_down(void) { return 0; }
#endif
/// Sets the locale from the environment and makes sure the character set is UTF-8, so that
/// ncursesw reads and writes multi-byte text even when LANG is unset (as under tmux or CI).
static inline void cn_setlocale_utf8(void) {
    setlocale(LC_ALL, "");
    const char *ctype = setlocale(LC_CTYPE, NULL);
    if (ctype == NULL || (strstr(ctype, "UTF-8") == NULL && strstr(ctype, "utf8") == NULL)) {
        if (setlocale(LC_CTYPE, "C.UTF-8") == NULL) setlocale(LC_CTYPE, "en_US.UTF-8");
    }
}


// MARK: Restoring the terminal when the process crashes
//
// A Swift trap (SIGILL or SIGTRAP), a bad access (SIGSEGV, SIGBUS), abort() or an arithmetic
// fault would otherwise leave the terminal in the alternate screen, without echo and with
// the cursor hidden. While curses is active, these signals run `cn_crash_handler`, which does
// only async-signal-safe things: write(2) a reset sequence prepared in advance, tcsetattr(3)
// the terminal mode saved before curses started, then restore the default action and
// re-raise, so that the process still dies of the signal (and the shell reports it).

#define CN_CRASH_SIGNAL_COUNT 6

// The state lives in a function's static storage: Swift's importer does not emit a header's
// file-scope arrays and structs, but does emit the functions that hold them.
struct cn_crash_state {
    struct sigaction previous[CN_CRASH_SIGNAL_COUNT];
    struct termios termios;
    volatile sig_atomic_t termios_saved;
    char reset[512];
    volatile sig_atomic_t reset_length;
    volatile sig_atomic_t installed;
};

static struct cn_crash_state *cn_crash(void) {
    static struct cn_crash_state state;
    return &state;
}

static inline int cn_crash_signal_count(void) { return CN_CRASH_SIGNAL_COUNT; }
static inline int cn_crash_signal(int i) {
    switch (i) {
    case 0: return SIGILL;
    case 1: return SIGTRAP;
    case 2: return SIGSEGV;
    case 3: return SIGBUS;
    case 4: return SIGABRT;
    case 5: return SIGFPE;
    default: return 0;
    }
}

/// Writes what undoes curses: the reset sequence, then the saved terminal mode.
static void cn_crash_restore_terminal(void) {
    struct cn_crash_state *c = cn_crash();
    if (c->reset_length > 0) {
        ssize_t written = write(STDOUT_FILENO, c->reset, (size_t)c->reset_length);
        (void)written;
    }
    if (c->termios_saved) tcsetattr(STDIN_FILENO, TCSANOW, &c->termios);
}

static void cn_crash_handler(int sig) {
    struct cn_crash_state *c = cn_crash();
    if (c->installed) {
        c->installed = 0;
        cn_crash_restore_terminal();
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    // Blocked while this handler runs; delivered with the default action when it returns.
    raise(sig);
}

/// Saves the terminal mode; call before initscr().
static inline void cn_crash_save_terminal_mode(void) {
    struct cn_crash_state *c = cn_crash();
    c->termios_saved = tcgetattr(STDIN_FILENO, &c->termios) == 0;
}

/// Appends bytes to the reset sequence, while they fit.
static inline void cn_crash_append(const char *bytes, size_t k) {
    struct cn_crash_state *c = cn_crash();
    size_t n = (size_t)c->reset_length;
    if (n + k >= sizeof c->reset) return;
    memcpy(c->reset + n, bytes, k);
    c->reset_length = (sig_atomic_t)(n + k);
}

/// Appends one terminfo capability (padding such as $<5> left out) to the reset sequence.
static inline void cn_crash_append_capability(const char *name) {
    char *cap = tigetstr((char *)name);
    if (cap == NULL || cap == (char *)-1) return;
    for (const char *p = cap; *p; p++) {
        if (p[0] == '$' && p[1] == '<') {
            const char *end = strchr(p, '>');
            if (end != NULL) { p = end; continue; }
        }
        cn_crash_append(p, 1);
    }
}

/// Prepares the reset sequence; call after initscr(). Mouse reporting is switched off too.
static inline void cn_crash_prepare_reset(int mouse) {
    cn_crash()->reset_length = 0;
    cn_crash_append_capability("sgr0");
    cn_crash_append_capability("cnorm");
    cn_crash_append_capability("rmkx");
    if (mouse) {
        const char *off = "\033[?1006l\033[?1002l\033[?1000l";
        cn_crash_append(off, strlen(off));
    }
    cn_crash_append_capability("rmcup");
}

/// Installs the handler for every crash signal, keeping the previous actions.
static inline int cn_crash_install(void) {
    struct cn_crash_state *c = cn_crash();
    if (c->installed) return 0;
    for (int i = 0; i < CN_CRASH_SIGNAL_COUNT; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = cn_crash_handler;
        sigemptyset(&action.sa_mask);
        if (sigaction(cn_crash_signal(i), &action, &c->previous[i]) != 0) return -1;
    }
    c->installed = 1;
    return 0;
}

/// Puts the previous actions back (curses has ended normally).
static inline void cn_crash_uninstall(void) {
    struct cn_crash_state *c = cn_crash();
    if (!c->installed) return;
    c->installed = 0;
    for (int i = 0; i < CN_CRASH_SIGNAL_COUNT; i++) sigaction(cn_crash_signal(i), &c->previous[i], NULL);
}

/// Whether `sig` currently runs the crash handler (for tests).
static inline int cn_crash_handler_is_set(int sig) {
    struct sigaction current;
    if (sigaction(sig, NULL, &current) != 0) return 0;
    return current.sa_handler == cn_crash_handler;
}

/// The address of the handler `sig` runs now, to compare before and after (for tests).
static inline unsigned long cn_signal_handler_address(int sig) {
    struct sigaction current;
    if (sigaction(sig, NULL, &current) != 0) return 0;
    return (unsigned long)current.sa_handler;
}

/// The prepared reset sequence (for tests).
static inline int cn_crash_reset_copy(char *out, int capacity) {
    struct cn_crash_state *c = cn_crash();
    int n = (int)c->reset_length;
    if (n > capacity) n = capacity;
    if (n < 0) n = 0;
    memcpy(out, c->reset, (size_t)n);
    return n;
}

// MARK: Waking the screen loop on a resize
//
// The screen loop sleeps in poll(2) until a key or a message arrives. curses learns of a
// resize from SIGWINCH, but the signal may be delivered to any thread of the process and
// then interrupts no poll; so this handler runs curses' own handler, then writes a byte to
// a pipe that the loop polls as well (write(2) is async-signal-safe).

struct cn_winch_state {
    struct sigaction previous;
    volatile sig_atomic_t fd;
    volatile sig_atomic_t installed;
};

static struct cn_winch_state *cn_winch(void) {
    static struct cn_winch_state state = { .fd = -1 };
    return &state;
}

static void cn_winch_handler(int sig, siginfo_t *info, void *context) {
    int saved = errno;
    struct cn_winch_state *w = cn_winch();
    if (w->previous.sa_flags & SA_SIGINFO) {
        if (w->previous.sa_sigaction != NULL) w->previous.sa_sigaction(sig, info, context);
    } else if (w->previous.sa_handler != SIG_DFL && w->previous.sa_handler != SIG_IGN && w->previous.sa_handler != NULL) {
        w->previous.sa_handler(sig);
    }
    if (w->fd >= 0) {
        ssize_t written = write(w->fd, "w", 1);
        (void)written;
    }
    errno = saved;
}

/// After initscr() (which installs curses' own SIGWINCH handler): a resize also writes to `fd`.
static inline int cn_winch_install(int fd) {
    struct cn_winch_state *w = cn_winch();
    if (w->installed) { w->fd = fd; return 0; }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = cn_winch_handler;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    w->fd = fd;
    if (sigaction(SIGWINCH, &action, &w->previous) != 0) { w->fd = -1; return -1; }
    w->installed = 1;
    return 0;
}

/// Puts curses' handler back.
static inline void cn_winch_uninstall(void) {
    struct cn_winch_state *w = cn_winch();
    if (!w->installed) return;
    w->installed = 0;
    sigaction(SIGWINCH, &w->previous, NULL);
    w->fd = -1;
}

/// Waits until one of `fds` is readable or `timeout_ms` passes (-1: no limit); a signal ends
/// the wait early. Returns poll(2)'s result.
static inline int cn_wait_readable(const int *fds, int count, int timeout_ms) {
    struct pollfd p[8];
    if (count > 8) count = 8;
    for (int i = 0; i < count; i++) { p[i].fd = fds[i]; p[i].events = POLLIN; p[i].revents = 0; }
    return poll(p, (nfds_t)count, timeout_ms);
}

#endif
