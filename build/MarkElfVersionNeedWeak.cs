// MSBuild inline task (build/TorchSharp.targets): sets VER_FLG_WEAK on one version need of ELF64
// little-endian shared objects, in place. Idempotent; a file without that need is left unchanged.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class MarkElfVersionNeedWeak : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    [Required]
    public string VersionName { get; set; } = string.Empty;

    public override bool Execute()
    {
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            try
            {
                var patched = Patch(path, VersionName);
                Log.LogMessage(MessageImportance.Normal, "{0}: {1} version need {2}", path,
                    patched ? "marked weak the" : "no change to the", VersionName);
            }
            catch (Exception e)
            {
                Log.LogError("could not mark {0} weak in {1}: {2}", VersionName, path, e.Message);
            }
        }

        return !Log.HasLoggedErrors;
    }

    private static bool Patch(string path, string versionName)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }

        if (bytes[4] != 2 || bytes[5] != 1)
        {
            throw new InvalidDataException("only 64-bit little-endian ELF is supported");
        }

        var sectionHeaders = checked((int)BitConverter.ToUInt64(bytes, 0x28));
        int entrySize = BitConverter.ToUInt16(bytes, 0x3A);
        int count = BitConverter.ToUInt16(bytes, 0x3C);
        var changed = false;
        for (var i = 0; i < count; i++)
        {
            var header = sectionHeaders + (i * entrySize);
            if (BitConverter.ToUInt32(bytes, header + 4) != ShtGnuVerneed)
            {
                continue;
            }

            var offset = checked((int)BitConverter.ToUInt64(bytes, header + 0x18));
            var stringTableIndex = (int)BitConverter.ToUInt32(bytes, header + 0x28);
            var needCount = (int)BitConverter.ToUInt32(bytes, header + 0x2C);
            var stringsHeader = sectionHeaders + (stringTableIndex * entrySize);
            var strings = checked((int)BitConverter.ToUInt64(bytes, stringsHeader + 0x18));
            changed |= PatchNeeds(bytes, offset, needCount, strings, versionName);
        }

        if (changed)
        {
            var temporary = path + ".patching";
            File.WriteAllBytes(temporary, bytes);
            File.Delete(path);
            File.Move(temporary, path);
        }

        return changed;
    }

    private static bool PatchNeeds(byte[] bytes, int need, int needCount, int strings, string versionName)
    {
        var changed = false;
        for (var n = 0; n < needCount; n++)
        {
            int auxCount = BitConverter.ToUInt16(bytes, need + 2);
            var aux = need + (int)BitConverter.ToUInt32(bytes, need + 8);
            for (var a = 0; a < auxCount; a++)
            {
                var name = ReadString(bytes, strings + (int)BitConverter.ToUInt32(bytes, aux + 8));
                var flags = BitConverter.ToUInt16(bytes, aux + 4);
                if (name == versionName && (flags & VerFlgWeak) == 0)
                {
                    var weak = BitConverter.GetBytes((ushort)(flags | VerFlgWeak));
                    bytes[aux + 4] = weak[0];
                    bytes[aux + 5] = weak[1];
                    changed = true;
                }

                aux += (int)BitConverter.ToUInt32(bytes, aux + 12);
            }

            need += (int)BitConverter.ToUInt32(bytes, need + 12);
        }

        return changed;
    }

    private static string ReadString(byte[] bytes, int start)
    {
        var end = Array.IndexOf(bytes, (byte)0, start);
        return Encoding.ASCII.GetString(bytes, start, end - start);
    }
}
