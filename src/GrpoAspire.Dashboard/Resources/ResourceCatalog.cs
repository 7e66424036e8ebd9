namespace GrpoAspire.Dashboard.Resources;

/// <summary>
/// A ready <see cref="IResourceCatalog"/> for a host that starts processes: it sets a snapshot when a
/// resource changes and appends output lines to the resource's <see cref="ConsoleLogBuffer"/>.
/// Thread-safe; resources keep the order in which they were first set.
/// </summary>
public sealed class ResourceCatalog(int consoleCapacity = ConsoleLogBuffer.DefaultCapacity) : IResourceCatalog
{
    private readonly Lock _gate = new();
    private readonly List<string> _order = [];
    private readonly Dictionary<string, ResourceSnapshot> _resources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ConsoleLogBuffer> _consoles = new(StringComparer.Ordinal);

    /// <summary>Adds <paramref name="resource"/>, or replaces the snapshot of the same name.</summary>
    public void Set(ResourceSnapshot resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentException.ThrowIfNullOrWhiteSpace(resource.Name);
        lock (_gate)
        {
            if (_resources.TryAdd(resource.Name, resource))
            {
                _order.Add(resource.Name);
            }
            else
            {
                _resources[resource.Name] = resource;
            }
        }
    }

    /// <summary>Replaces the snapshot of <paramref name="name"/> by <paramref name="change"/> of it, atomically.</summary>
    /// <exception cref="KeyNotFoundException">No resource of that name was set.</exception>
    public ResourceSnapshot Update(string name, Func<ResourceSnapshot, ResourceSnapshot> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_gate)
        {
            if (!_resources.TryGetValue(name, out var current))
            {
                throw new KeyNotFoundException($"resource '{name}' is not in the catalog; Set it first");
            }

            var next = change(current) with { Name = name };
            _resources[name] = next;
            return next;
        }
    }

    /// <summary>The console buffer of <paramref name="name"/>, created on first use.</summary>
    public ConsoleLogBuffer Console(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        lock (_gate)
        {
            return ConsoleLocked(name);
        }
    }

    public IReadOnlyList<ResourceSnapshot> GetResources()
    {
        lock (_gate)
        {
            return _order.Select(name => _resources[name]).ToArray();
        }
    }

    public ConsoleLogBuffer? GetConsoleLogs(string resourceName)
    {
        lock (_gate)
        {
            if (_consoles.TryGetValue(resourceName, out var buffer))
            {
                return buffer;
            }

            // A known resource that has not written anything yet has an empty log, not a missing one.
            return _resources.ContainsKey(resourceName) ? ConsoleLocked(resourceName) : null;
        }
    }

    private ConsoleLogBuffer ConsoleLocked(string name)
    {
        if (!_consoles.TryGetValue(name, out var buffer))
        {
            buffer = new ConsoleLogBuffer(consoleCapacity);
            _consoles.Add(name, buffer);
        }

        return buffer;
    }
}
