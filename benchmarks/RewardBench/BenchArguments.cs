using System.Globalization;

namespace GrpoAspire.Benchmarks.Reward;

/// <summary><c>--name value</c> pairs after the mode; anything else is an error naming it.</summary>
internal sealed class BenchArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public BenchArguments(IEnumerable<string> args, params string[] known)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var name = e.Current.StartsWith("--", StringComparison.Ordinal) ? e.Current[2..] : null;
            if (name is null || !known.Contains(name))
            {
                throw new ArgumentException($"unexpected argument '{e.Current}'; options: {string.Join(", ", known.Select(k => "--" + k))}");
            }

            _values[name] = e.MoveNext() ? e.Current : throw new ArgumentException($"--{name} needs a value");
        }
    }

    public string String(string name) =>
        _values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required");

    public string? Optional(string name) => _values.GetValueOrDefault(name);

    public int Int32(string name, int defaultValue) =>
        _values.TryGetValue(name, out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : defaultValue;

    public ulong UInt64(string name, ulong defaultValue) =>
        _values.TryGetValue(name, out var text) ? ulong.Parse(text, CultureInfo.InvariantCulture) : defaultValue;
}
