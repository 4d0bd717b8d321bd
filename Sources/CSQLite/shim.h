#include <sqlite3.h>

// sqlite3_config is variadic, which Swift cannot call: the two page-cache settings it needs.
static inline int nylas_sim_sqlite3_get_pcache2(sqlite3_pcache_methods2 *methods) {
    return sqlite3_config(SQLITE_CONFIG_GETPCACHE2, methods);
}
static inline int nylas_sim_sqlite3_set_pcache2(const sqlite3_pcache_methods2 *methods) {
    return sqlite3_config(SQLITE_CONFIG_PCACHE2, methods);
}
