// Puts back, under LD_PRELOAD, the two SQLite defaults the simulator turns off at start-up
// (`SQLiteDatabase.configured`): memory statistics (`SQLITE_CONFIG_MEMSTATUS` is ignored) and
// `secure_delete` (the pragma that turns it off is sent as `secure_delete=ON`). One binary then
// gives both sides of an A/B of those settings, with nothing else changed.
//   cc -O2 -shared -fPIC -o /tmp/sqlite-defaults.so Benchmarks/sqlite-defaults.c -ldl
//   LD_PRELOAD=/tmp/sqlite-defaults.so nylas-sim-bench send --count 5000 --runs 3
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int sqlite3_config(int op, ...) {
    static int (*real)(int, ...);
    if (!real) real = (int (*)(int, ...))dlsym(RTLD_NEXT, "sqlite3_config");
    if (op == SQLITE_CONFIG_MEMSTATUS) return SQLITE_OK;
    va_list ap;
    va_start(ap, op);
    void *argument = va_arg(ap, void *);  // every other option the simulator sets takes one pointer
    va_end(ap);
    return real(op, argument);
}

int sqlite3_exec(sqlite3 *db, const char *sql, int (*callback)(void *, int, char **, char **), void *context, char **error) {
    static int (*real)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **);
    if (!real) real = dlsym(RTLD_NEXT, "sqlite3_exec");
    const char *off = "secure_delete=OFF";
    if (!sql || !strstr(sql, off)) return real(db, sql, callback, context, error);
    char *copy = strdup(sql);
    for (char *p = copy; (p = strstr(p, off)); p += strlen(off)) memcpy(p, "secure_delete=ON ", strlen(off));
    int rc = real(db, copy, callback, context, error);
    free(copy);
    return rc;
}
