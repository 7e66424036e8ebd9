// Compiled into every assembly that references TorchSharp (build/TorchSharp.targets). Binds TorchSharp's
// "LibTorchSharp" imports to libGrpoScalarQuarantine.so (build/native/scalar_quarantine.c), which forwards every
// call to libLibTorchSharp.so but holds disposed Scalars for two seconds before freeing them, closing TorchSharp's
// race between its Scalar finalizer and the native call still reading that Scalar. Whichever of our assemblies runs
// first installs it, before TorchSharp makes its first native call; where the library was not built (no C compiler,
// not Linux) TorchSharp binds as it always does.
using System;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GrpoAspire.TorchSharpScalarLifetime;

internal static class ScalarQuarantineInstaller
{
    private const string StatusKey = "GrpoAspire.ScalarQuarantine";
    private const string LibraryFile = "libGrpoScalarQuarantine.so";

#pragma warning disable CA2255 // it has to run before TorchSharp's first native call, in libraries and tests too
    [ModuleInitializer]
    internal static void Install()
    {
        AppDomain.CurrentDomain.AssemblyLoad += (_, loaded) => InstallInto(loaded.LoadedAssembly);
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            InstallInto(assembly);
        }
    }
#pragma warning restore CA2255

    private static void InstallInto(Assembly assembly)
    {
        if (assembly.GetName().Name != "TorchSharp" || !OperatingSystem.IsLinux())
        {
            return;
        }

        var path = Path.Combine(AppContext.BaseDirectory, LibraryFile);
        if (!File.Exists(path))
        {
            AppContext.SetData(StatusKey, "not built");
            return;
        }

        try
        {
            NativeLibrary.SetDllImportResolver(assembly, (name, from, searchPath) => Resolve(name, from, searchPath, path));
            AppContext.SetData(StatusKey, path);
        }
        catch (InvalidOperationException)
        {
            // Another of our assemblies installed it first.
        }
    }

    private static IntPtr Resolve(string name, Assembly from, DllImportSearchPath? searchPath, string quarantine)
    {
        if (name != "LibTorchSharp" || !NativeLibrary.TryLoad(name, from, searchPath, out _))
        {
            return IntPtr.Zero;
        }

        // libLibTorchSharp.so is loaded now, so the quarantine's dependency on it resolves to that very copy.
        return NativeLibrary.Load(quarantine);
    }
}
