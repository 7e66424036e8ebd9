using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GrpoAspire.Dashboard.Web;

/// <summary>
/// Serves the web UI (wwwroot/*, embedded in this assembly) from memory: no files on disk, no node, no build
/// step. Loaded once; each file carries an ETag so a browser polling every 2 s revalidates for free. Every UI
/// response forbids inline script and framing: the pages show text sent by any local process.
/// </summary>
internal sealed class StaticAssets
{
    private const string ResourcePrefix = "wwwroot/";
    private readonly Dictionary<string, Asset> _assets;

    private StaticAssets(Dictionary<string, Asset> assets) => _assets = assets;

    public static StaticAssets Load()
    {
        var assembly = typeof(StaticAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var bytes = memory.ToArray();
            var name = resource[ResourcePrefix.Length..];
            assets[name] = new Asset(bytes, ContentType(name), $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}\"");
        }

        if (!assets.ContainsKey("index.html"))
        {
            throw new InvalidOperationException("the dashboard assembly has no embedded wwwroot/index.html");
        }

        return new StaticAssets(assets);
    }

    public IReadOnlyCollection<string> Names => _assets.Keys;

    public void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", (HttpContext context) => Serve(context, "index.html"));
        endpoints.MapGet("/{file}", (HttpContext context, string file) => Serve(context, file));
    }

    /// <summary>Headers for every UI and API response.</summary>
    public static void AddSecurityHeaders(HttpResponse response)
    {
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers.ContentSecurityPolicy =
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }

    private Task Serve(HttpContext context, string name)
    {
        if (!_assets.TryGetValue(name, out var asset))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        context.Response.Headers.ETag = asset.ETag;
        context.Response.Headers.CacheControl = "no-cache";
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        context.Response.ContentType = asset.ContentType;
        context.Response.ContentLength = asset.Bytes.Length;
        return context.Response.Body.WriteAsync(asset.Bytes, context.RequestAborted).AsTask();
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
