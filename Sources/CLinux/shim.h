#include <sys/prctl.h>

/// prctl is variadic, which Swift cannot call: the calling thread's timer slack, in nanoseconds
/// (how late the kernel may wake its sleeps to batch wake-ups; 50 µs by default).
static inline int stacksim_set_timer_slack(unsigned long nanoseconds) {
    return prctl(PR_SET_TIMERSLACK, nanoseconds, 0UL, 0UL, 0UL);
}

/// The calling thread's name, as the kernel shows it (at most 15 bytes are kept).
static inline int stacksim_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, name, 0UL, 0UL, 0UL);
}
