#include <sqlite3.h>

// sqlite3_config is variadic, which Swift cannot call: the settings the simulator makes.
static inline int nylas_sim_sqlite3_get_pcache2(sqlite3_pcache_methods2 *methods) {
    return sqlite3_config(SQLITE_CONFIG_GETPCACHE2, methods);
}
static inline int nylas_sim_sqlite3_set_pcache2(const sqlite3_pcache_methods2 *methods) {
    return sqlite3_config(SQLITE_CONFIG_PCACHE2, methods);
}
// Memory statistics off: with them on (the default), every allocation of every connection takes
// one process-wide mutex, and a build without lookaside (Debian's) allocates for most steps.
static inline int nylas_sim_sqlite3_memstatus_off(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
