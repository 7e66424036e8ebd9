using GrpoAspire.Trainer.Training;

namespace GrpoAspire.Trainer.RunPage;

/// <summary>
/// <c>GET /run</c> (the run page, which an orchestrator's dashboard links to) and <c>GET /run/curves.png</c>. Open,
/// like <c>/health</c>: they show what the run folder holds, nothing that controls the run.
/// </summary>
internal static class RunPageEndpoints
{
    public const string PagePath = "/run";

    /// <summary>A larger file is not served: ScottPlot's picture of a run is a few hundred KiB.</summary>
    public const int MaxCurvesBytes = 16 * 1024 * 1024;

    public static IEndpointRouteBuilder MapRunPage(this IEndpointRouteBuilder app)
    {
        app.MapGet(PagePath, (TrainingStatus status, HttpResponse response) =>
        {
            Secure(response);
            var runDirectory = status.RunDirectory;
            var html = RunPageHtml.Render(status.Snapshot(), runDirectory, RunFolderView.Read(runDirectory));
            return Results.Content(html, "text/html; charset=utf-8");
        });
        app.MapGet(RunPageHtml.CurvesUrl, (TrainingStatus status, HttpResponse response) =>
        {
            Secure(response);
            var png = status.RunDirectory is { } runDirectory ? ReadCurves(RunFolderView.CurvesPath(runDirectory)) : null;
            return png is null ? Results.NotFound() : Results.Bytes(png, "image/png");
        });
        return app;
    }

    private static void Secure(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = RunPageHtml.ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.CacheControl = "no-store";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }

    /// <summary>The picture's bytes, read whole (the plotter rewrites it in place); null when absent, unreadable or too large.</summary>
    private static byte[]? ReadCurves(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length is 0 or > MaxCurvesBytes)
            {
                return null;
            }

            var bytes = new byte[stream.Length];
            var read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            return read == bytes.Length ? bytes : bytes[..read];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
