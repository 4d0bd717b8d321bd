// The Swift runtime's hook for enqueueing a job on the global executor (swift/Runtime/Concurrency.h).
// Declared here so that a statically linked executable, where the runtime's symbols are not
// exported and so cannot be found with dlsym, can still set it.
#include <stdbool.h>
#include <stddef.h>

typedef void (*sim_enqueue_original)(void *job);
typedef void (*sim_enqueue_hook)(void *job, sim_enqueue_original original);

extern sim_enqueue_hook swift_task_enqueueGlobal_hook;

/// Sets the hook unless one is set already; true when this call set it.
static inline bool sim_install_enqueue_global_hook(sim_enqueue_hook hook) {
    sim_enqueue_hook expected = NULL;
    return __atomic_compare_exchange_n(&swift_task_enqueueGlobal_hook, &expected, hook, false,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
