#ifndef CNCURSES_SHIM_H
#define CNCURSES_SHIM_H
// The wide-character API must be switched on before the header is read, or
// add_wch/get_wch and cchar_t vanish and wide characters break.
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#define NCURSES_WIDECHAR 1
#include <locale.h>
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
static inline int cn_set_locale_from_env(void) { return setlocale(LC_ALL, "") != NULL; }

#endif
