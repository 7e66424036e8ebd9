/*
 * TorchSharp 0.107 frees a c10::Scalar from the .NET finalizer, and its own methods (Tensor.add(Tensor) passes
 * an implicit alpha of 1, every `tensor * 0.5` converts a double) leave the managed Scalar unreachable while the
 * native call still reads it. A garbage collection at that moment frees the Scalar under libtorch's feet:
 * "Expected false to be true ... toFloat", or a wrong value. This library stands in front of libLibTorchSharp.so
 * (it is linked against it, so every other symbol resolves there) and defines THSTorch_dispose_scalar: a disposed
 * Scalar is held for QUARANTINE_NS and only then freed, far longer than any native call takes to read its
 * arguments. The hold is bounded: past CAPACITY held Scalars the oldest is freed whatever its age.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define CAPACITY (1u << 18)
#define QUARANTINE_NS 2000000000LL

typedef void (*dispose_fn)(void *);

typedef struct {
    void *scalar;
    int64_t disposed_at;
} held_scalar;

static held_scalar *ring;
static uint32_t head, count;
static uint64_t freed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static dispose_fn real_dispose;

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int ready(void) {
    if (!real_dispose) {
        real_dispose = (dispose_fn)dlsym(RTLD_NEXT, "THSTorch_dispose_scalar");
    }
    if (!ring) {
        ring = calloc(CAPACITY, sizeof *ring);
    }
    return real_dispose && ring;
}

static void release_oldest(void) {
    uint32_t oldest = (head + CAPACITY - count) % CAPACITY;
    real_dispose(ring[oldest].scalar);
    count--;
    freed++;
}

void THSTorch_dispose_scalar(void *scalar) {
    int64_t now = now_ns();
    pthread_mutex_lock(&lock);
    if (!ready()) {
        pthread_mutex_unlock(&lock);
        abort(); /* linked against libLibTorchSharp.so, so its dispose is always there */
    }
    while (count > 0 && (count == CAPACITY || now - ring[(head + CAPACITY - count) % CAPACITY].disposed_at >= QUARANTINE_NS)) {
        release_oldest();
    }
    ring[head] = (held_scalar){scalar, now};
    head = (head + 1) % CAPACITY;
    count++;
    pthread_mutex_unlock(&lock);
}

/* How many Scalars are held now and how many were freed: lets .NET tell that this library is the one in use. */
void GrpoScalarQuarantine_stats(uint64_t *held, uint64_t *released) {
    pthread_mutex_lock(&lock);
    *held = count;
    *released = freed;
    pthread_mutex_unlock(&lock);
}
