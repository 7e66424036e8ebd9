using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using GrpoAspire.Dashboard.Api;
using GrpoAspire.Dashboard.Telemetry;

namespace GrpoAspire.Dashboard.Tests;

/// <summary>Reads the dashboard's JSON API with the same conventions the UI relies on (camelCase, enum names).</summary>
internal sealed class DashboardApiClient(DashboardHost dashboard) : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly HttpClient _http = new() { BaseAddress = dashboard.UiUrl, Timeout = TimeSpan.FromSeconds(30) };

    public HttpClient Http => _http;

    public Task<T?> GetAsync<T>(string path) => _http.GetFromJsonAsync<T>(path, Json);

    public async Task<IReadOnlyList<TraceSummary>> TracesAsync() => await GetAsync<TraceSummary[]>("api/traces") ?? [];

    /// <summary>The trace, or null when the API answers 404.</summary>
    public async Task<TraceDetail?> TraceAsync(string traceId)
    {
        using var response = await _http.GetAsync($"api/traces/{traceId}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<TraceDetail>(Json);
    }

    public async Task<CurvesView> CurvesAsync() => (await GetAsync<CurvesView>("api/curves"))!;

    public async Task<IReadOnlyList<MetricSummary>> MetricsAsync() => await GetAsync<MetricSummary[]>("api/metrics") ?? [];

    public void Dispose() => _http.Dispose();
}
