using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace GrpoAspire.Model.Cuda;

/// <summary>
/// A CUDA graph of libtorch work: the kernels one call of a function launches, recorded once and replayed with one
/// launch. TorchSharp binds no CUDA graph API, so this calls libtorch's own <c>at::cuda::CUDAGraph</c> (the class behind
/// PyTorch's <c>torch.cuda.CUDAGraph</c>) and c10's stream functions through their exported C++ symbols, found at run
/// time in the process's libtorch_cuda.so / libc10_cuda.so (Itanium C++ ABI, Linux x64).
/// <para>
/// What a replay does: the same kernels on the same memory. The recorded function must therefore read its inputs from
/// tensors that live across replays (update them in place before <see cref="Replay"/>), keep every shape fixed, and
/// make no host synchronization (no <c>.cpu()</c>, no <c>.item()</c>, no host-to-device copy of new data). Its
/// output tensor is the same memory every replay: read it before the next one. As in PyTorch, capture runs on a side
/// stream after warm-up calls there, and the graph's intermediate tensors live in a memory pool of its own.
/// </para>
/// </summary>
public sealed unsafe class CudaGraph : IDisposable
{
    // Generous room for the C++ object (a few hundred bytes in PyTorch 2.x): its layout is not ours to know.
    private const int ObjectBytes = 16 * 1024;

    private static readonly Lazy<(Api? Api, string? Missing)> Functions = new(Api.Resolve);

    private readonly Device _device;
    private void* _graph;
    private bool _captured;

    private CudaGraph(Device device)
    {
        _device = device;
        var api = Functions.Value.Api ?? throw new NotSupportedException(Unavailable);
        _graph = NativeMemory.AlignedAlloc(ObjectBytes, 64);
        NativeMemory.Clear(_graph, ObjectBytes);
        api.Construct(_graph);
    }

    /// <summary>Why graphs cannot be used in this process (null when they can): no CUDA, or libtorch lacks the symbols.</summary>
    public static string? Unavailable
    {
        get
        {
            if (!cuda.is_available())
            {
                return "CUDA is not available to this libtorch";
            }

            return Functions.Value.Missing;
        }
    }

    /// <summary>The output of the recorded call; every replay rewrites it in place.</summary>
    public Tensor Output { get; private set; } = null!;

    /// <summary>
    /// Records <paramref name="body"/> as a graph on <paramref name="device"/>: runs it <paramref name="warmup"/> times
    /// on a side stream (lazy initialization, e.g. cuBLAS workspaces, must not happen inside a capture), then once more
    /// under capture. The body must be idempotent for its current inputs: the warm-up calls execute it.
    /// </summary>
    public static CudaGraph Capture(Device device, Func<Tensor> body, int warmup = 2)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (device.type != TorchSharp.DeviceType.CUDA)
        {
            throw new ArgumentException($"CUDA graphs need a CUDA device, got {device}", nameof(device));
        }

        if (Unavailable is { } why)
        {
            throw new NotSupportedException($"CUDA graphs are not available: {why}");
        }

        var api = Functions.Value.Api!;
        var graph = new CudaGraph(device);
        var index = (sbyte)device.index;
        cuda.synchronize(device); // the side stream must see everything queued on the current one
        var previous = api.CurrentStream(index);
        api.SetCurrentStream(api.StreamFromPool(index));
        try
        {
            for (var i = 0; i < warmup; i++)
            {
                using var scope = NewDisposeScope();
                body();
            }

            cuda.synchronize(device);
            api.CaptureBegin(graph._graph);
            Tensor output;
            using (var scope = NewDisposeScope())
            {
                output = body().DetachFromDisposeScope();
            }

            api.CaptureEnd(graph._graph);
            graph._captured = true;
            graph.Output = output;
            return graph;
        }
        catch
        {
            graph.Dispose();
            throw;
        }
        finally
        {
            api.SetCurrentStream(previous);
            cuda.synchronize(device);
        }
    }

    /// <summary>Launches the recorded kernels on the current stream (asynchronous, as any CUDA work).</summary>
    public void Replay()
    {
        ObjectDisposedException.ThrowIf(_graph is null, this);
        if (!_captured)
        {
            throw new InvalidOperationException("the graph was never captured");
        }

        Functions.Value.Api!.Replay(_graph);
    }

    public void Dispose()
    {
        if (_graph is null)
        {
            return;
        }

        cuda.synchronize(_device);
        Output?.Dispose();
        Functions.Value.Api!.Destruct(_graph);
        NativeMemory.AlignedFree(_graph);
        _graph = null;
    }

    /// <summary>c10::cuda::CUDAStream by value: a c10::Stream {Device (2 bytes, padded to 8), int64 id}, returned and passed in two registers.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly struct CudaStream
    {
        public readonly long Device;
        public readonly long Id;
    }

    private sealed class Api
    {
        private delegate* unmanaged<void*, byte, void> _constructKeep;
        private delegate* unmanaged<void*, void> _constructPlain;
        private delegate* unmanaged<void*, void> _destruct;
        private delegate* unmanaged<void*, ulong, ulong, int, void> _captureBeginMode;
        private delegate* unmanaged<void*, ulong, ulong, void> _captureBeginPool;
        private delegate* unmanaged<void*, void> _captureEnd;
        private delegate* unmanaged<void*, void> _replay;
        private delegate* unmanaged<byte, sbyte, CudaStream> _streamFromPoolBool;
        private delegate* unmanaged<int, sbyte, CudaStream> _streamFromPoolInt;
        private delegate* unmanaged<sbyte, CudaStream> _currentStream;
        private delegate* unmanaged<CudaStream, void> _setCurrentStream;

        // cudaStreamCaptureModeThreadLocal: unsafe CUDA calls are refused only on the capturing thread, so that the
        // runtime's other threads (finalizers freeing tensors) cannot break a capture.
        private const int CaptureModeThreadLocal = 1;

        /// <summary>The functions, or null and why not.</summary>
        public static (Api? Api, string? Missing) Resolve()
        {
            try
            {
                var torchCuda = Load("libtorch_cuda.so");
                var c10Cuda = Load("libc10_cuda.so");
                if (torchCuda == IntPtr.Zero || c10Cuda == IntPtr.Zero)
                {
                    return (null, "libtorch_cuda.so / libc10_cuda.so are not loaded in this process");
                }

                var api = new Api
                {
                    _constructKeep = (delegate* unmanaged<void*, byte, void>)Find(torchCuda, "_ZN2at4cuda9CUDAGraphC1Eb"),
                    _constructPlain = (delegate* unmanaged<void*, void>)Find(torchCuda, "_ZN2at4cuda9CUDAGraphC1Ev"),
                    _destruct = (delegate* unmanaged<void*, void>)Find(torchCuda, "_ZN2at4cuda9CUDAGraphD1Ev"),
                    _captureBeginMode = (delegate* unmanaged<void*, ulong, ulong, int, void>)Find(
                        torchCuda, "_ZN2at4cuda9CUDAGraph13capture_beginESt4pairIyyE21cudaStreamCaptureMode"),
                    _captureBeginPool = (delegate* unmanaged<void*, ulong, ulong, void>)Find(
                        torchCuda, "_ZN2at4cuda9CUDAGraph13capture_beginESt4pairIyyE"),
                    _captureEnd = (delegate* unmanaged<void*, void>)Find(torchCuda, "_ZN2at4cuda9CUDAGraph11capture_endEv"),
                    _replay = (delegate* unmanaged<void*, void>)Find(torchCuda, "_ZN2at4cuda9CUDAGraph6replayEv"),
                    _streamFromPoolBool = (delegate* unmanaged<byte, sbyte, CudaStream>)Find(c10Cuda, "_ZN3c104cuda17getStreamFromPoolEba"),
                    _streamFromPoolInt = (delegate* unmanaged<int, sbyte, CudaStream>)Find(c10Cuda, "_ZN3c104cuda17getStreamFromPoolEia"),
                    _currentStream = (delegate* unmanaged<sbyte, CudaStream>)Find(c10Cuda, "_ZN3c104cuda20getCurrentCUDAStreamEa"),
                    _setCurrentStream = (delegate* unmanaged<CudaStream, void>)Find(c10Cuda, "_ZN3c104cuda20setCurrentCUDAStreamENS0_10CUDAStreamE"),
                };
                var missing = new (bool Found, string Name)[]
                {
                    (api._constructKeep is not null || api._constructPlain is not null, "CUDAGraph::CUDAGraph"),
                    (api._destruct is not null, "CUDAGraph::~CUDAGraph"),
                    (api._captureBeginMode is not null || api._captureBeginPool is not null, "CUDAGraph::capture_begin"),
                    (api._captureEnd is not null, "CUDAGraph::capture_end"),
                    (api._replay is not null, "CUDAGraph::replay"),
                    (api._streamFromPoolBool is not null || api._streamFromPoolInt is not null, "c10::cuda::getStreamFromPool"),
                    (api._currentStream is not null, "c10::cuda::getCurrentCUDAStream"),
                    (api._setCurrentStream is not null, "c10::cuda::setCurrentCUDAStream"),
                }.Where(symbol => !symbol.Found).Select(symbol => symbol.Name).ToList();
                return missing.Count > 0 ? (null, "this libtorch exports no " + string.Join(", ", missing)) : (api, null);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
            {
                return (null, e.Message);
            }
        }

        public void Construct(void* graph)
        {
            if (_constructKeep is not null)
            {
                _constructKeep(graph, 0); // keep_graph = false: capture_end instantiates it
            }
            else
            {
                _constructPlain(graph);
            }
        }

        public void Destruct(void* graph) => _destruct(graph);

        public void CaptureBegin(void* graph)
        {
            if (_captureBeginMode is not null)
            {
                _captureBeginMode(graph, 0, 0, CaptureModeThreadLocal); // pool {0, 0}: a private pool of its own
            }
            else
            {
                _captureBeginPool(graph, 0, 0);
            }
        }

        public void CaptureEnd(void* graph) => _captureEnd(graph);

        public void Replay(void* graph) => _replay(graph);

        public CudaStream StreamFromPool(sbyte device) =>
            _streamFromPoolBool is not null ? _streamFromPoolBool(0, device) : _streamFromPoolInt(0, device);

        public CudaStream CurrentStream(sbyte device) => _currentStream(device);

        public void SetCurrentStream(CudaStream stream) => _setCurrentStream(stream);

        private static IntPtr Load(string name) => NativeLibrary.TryLoad(name, out var handle) ? handle : IntPtr.Zero;

        private static IntPtr Find(IntPtr library, string symbol) =>
            NativeLibrary.TryGetExport(library, symbol, out var address) ? address : IntPtr.Zero;
    }
}
