#ifndef CNCURSES_SHIM_H
#define CNCURSES_SHIM_H
// The wide-character API must be switched on before the header is read, or
// add_wch/get_wch and cchar_t vanish and wide characters break.
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <string.h>
#include <wchar.h>
#include <ncursesw/curses.h>

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

#endif
