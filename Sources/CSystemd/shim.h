// libsystemd entry points bucketwatch uses.
//
// sd_journal_send and sd_notifyf are variadic and cannot be called from
// Swift; sd_journal_sendv (an iovec array) and sd_notify (one preformatted
// string) carry the same information without varargs, so those are the only
// two functions Swift sees.
#ifndef BUCKETWATCH_CSYSTEMD_SHIM_H
#define BUCKETWATCH_CSYSTEMD_SHIM_H

#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-daemon.h>

static inline int bw_sd_journal_sendv(const struct iovec *iov, int n) {
    return sd_journal_sendv(iov, n);
}

static inline int bw_sd_notify(int unset_environment, const char *state) {
    return sd_notify(unset_environment, state);
}

#endif
