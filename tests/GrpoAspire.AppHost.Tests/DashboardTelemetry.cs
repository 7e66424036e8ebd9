using System.Net.Http.Json;
using System.Text.Json;

namespace GrpoAspire.AppHost.Tests;

/// <summary>The Aspire Dashboard's telemetry API (<c>/api/telemetry/traces</c>, OTLP JSON, header <c>x-api-key</c>).</summary>
internal sealed class DashboardTelemetry(Uri dashboard, string apiKey) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = dashboard, Timeout = TimeSpan.FromSeconds(10), DefaultRequestHeaders = { { "x-api-key", apiKey } } };

    /// <summary>Each trace's id, root span name and the services (service.name) that have spans in it.</summary>
    public async Task<IReadOnlyList<(string TraceId, string? Root, IReadOnlySet<string> Services)>> TracesAsync()
    {
        var body = await _http.GetFromJsonAsync<JsonElement>("api/telemetry/traces");
        var services = new Dictionary<string, HashSet<string>>();
        var roots = new Dictionary<string, string>();
        foreach (var resourceSpans in body.GetProperty("data").GetProperty("resourceSpans").EnumerateArray())
        {
            var service = resourceSpans.GetProperty("resource").GetProperty("attributes").EnumerateArray()
                .Where(a => a.GetProperty("key").GetString() == "service.name")
                .Select(a => a.GetProperty("value").GetProperty("stringValue").GetString()).FirstOrDefault() ?? "?";
            foreach (var span in resourceSpans.GetProperty("scopeSpans").EnumerateArray().SelectMany(s => s.GetProperty("spans").EnumerateArray()))
            {
                var traceId = span.GetProperty("traceId").GetString()!;
                if (!services.TryGetValue(traceId, out var set))
                {
                    services[traceId] = set = [];
                }

                set.Add(service);
                if (!span.TryGetProperty("parentSpanId", out var parent) || string.IsNullOrEmpty(parent.GetString()))
                {
                    roots[traceId] = span.GetProperty("name").GetString()!;
                }
            }
        }

        return services.Select(t => (t.Key, roots.GetValueOrDefault(t.Key), (IReadOnlySet<string>)t.Value)).ToArray();
    }

    public void Dispose() => _http.Dispose();
}
