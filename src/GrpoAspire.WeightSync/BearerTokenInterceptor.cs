using System.Security.Cryptography;
using System.Text;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Http;

namespace GrpoAspire.WeightSync;

/// <summary>
/// Server-side guard: a call to a protected method must carry <c>authorization: Bearer &lt;token&gt;</c> with the
/// expected token, else it fails with <see cref="StatusCode.PermissionDenied"/> before the service runs. Other
/// methods pass untouched, so one host can mix open calls (health, info) and guarded ones (weights, control).
/// </summary>
/// <remarks>
/// Tokens are compared as SHA-256 digests with <see cref="CryptographicOperations.FixedTimeEquals"/>: the time taken
/// reveals neither a matching prefix nor the token's length. The token travels in clear over h2c, so outside one
/// machine or a private cluster network put TLS in front.
/// </remarks>
public sealed class BearerTokenInterceptor : Interceptor
{
    /// <summary>The metadata key (gRPC metadata keys are lower case).</summary>
    public const string HeaderName = "authorization";

    /// <summary>The authorization scheme, RFC 6750.</summary>
    public const string Scheme = "Bearer";

    private readonly byte[] _expectedDigest;
    private readonly Func<string, bool> _isProtected;

    /// <param name="expectedToken">The secret; non-empty, without white space.</param>
    /// <param name="isProtected">Given <see cref="ServerCallContext.Method"/> ("/grpo.v1.WeightsService/GetWeights"), whether it needs the token.</param>
    public BearerTokenInterceptor(string expectedToken, Func<string, bool> isProtected)
    {
        ArgumentException.ThrowIfNullOrEmpty(expectedToken);
        ArgumentNullException.ThrowIfNull(isProtected);
        if (expectedToken.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException("a bearer token cannot contain white space", nameof(expectedToken));
        }

        _expectedDigest = Digest(expectedToken);
        _isProtected = isProtected;
    }

    /// <param name="expectedToken">The secret; non-empty, without white space.</param>
    /// <param name="protectedNames">
    /// Services by full name ("grpo.v1.WeightsService": all their methods) or methods by path
    /// ("/grpo.v1.WeightsService/GetWeights"); at least one.
    /// </param>
    public BearerTokenInterceptor(string expectedToken, IEnumerable<string> protectedNames)
        : this(expectedToken, Matcher(protectedNames))
    {
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, responseStream, context);
    }

    /// <summary>Returns when the call may proceed; throws PermissionDenied otherwise.</summary>
    internal void Authorize(ServerCallContext context)
    {
        var method = RoutedMethod(context);
        if (!_isProtected(method))
        {
            return;
        }

        var headers = context.RequestHeaders.Where(h => h.Key == HeaderName).ToList();
        if (headers.Count == 0)
        {
            throw Denied($"{method} needs '{HeaderName}: {Scheme} <token>' metadata; the call carried none");
        }

        if (headers.Count > 1 || headers[0].IsBinary)
        {
            throw Denied($"{method} needs exactly one text '{HeaderName}' metadata entry; the call carried {headers.Count}");
        }

        var value = headers[0].Value;
        var space = value.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0 || !value.AsSpan(0, space).Equals(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw Denied($"{method}: '{HeaderName}' metadata is not '{Scheme} <token>'");
        }

        if (!CryptographicOperations.FixedTimeEquals(Digest(value[(space + 1)..].Trim()), _expectedDigest))
        {
            throw Denied($"{method}: the bearer token is not valid");
        }
    }

    /// <summary>
    /// The method the call was routed to, from its endpoint: what it is, not how its path was spelled. ASP.NET Core routes
    /// gRPC paths case-insensitively and with a trailing slash, while <see cref="ServerCallContext.Method"/> is the path
    /// as sent (<c>/grpo.v1.weightsservice/getweights/</c> reaches GetWeights). A context outside ASP.NET Core (a test's)
    /// has only its path.
    /// </summary>
    internal static string RoutedMethod(ServerCallContext context)
    {
        HttpContext http;
        try
        {
            http = context.GetHttpContext();
        }
        catch (InvalidOperationException)
        {
            return context.Method;
        }

        return http.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.FullName ?? context.Method;
    }

    /// <summary>The predicate for a list of service names and method paths, each checked for form.</summary>
    internal static Func<string, bool> Matcher(IEnumerable<string> protectedNames)
    {
        ArgumentNullException.ThrowIfNull(protectedNames);
        var methods = new HashSet<string>(StringComparer.Ordinal);
        var servicePrefixes = new List<string>();
        foreach (var name in protectedNames)
        {
            var slashes = name?.Count(c => c == '/') ?? 0;
            if (string.IsNullOrWhiteSpace(name) || name.Any(char.IsWhiteSpace)
                || !(slashes == 0 || (slashes == 2 && name.StartsWith('/') && !name.EndsWith('/') && name.IndexOf('/', 1) > 1)))
            {
                throw new ArgumentException(
                    $"'{name}' is neither a service name (\"grpo.v1.WeightsService\") nor a method path (\"/grpo.v1.WeightsService/GetWeights\")",
                    nameof(protectedNames));
            }

            if (slashes == 0)
            {
                servicePrefixes.Add($"/{name}/");
            }
            else
            {
                methods.Add(name);
            }
        }

        if (methods.Count == 0 && servicePrefixes.Count == 0)
        {
            throw new ArgumentException("name at least one service or method to protect", nameof(protectedNames));
        }

        return method => methods.Contains(method) || servicePrefixes.Exists(p => method.StartsWith(p, StringComparison.Ordinal));
    }

    private static byte[] Digest(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static RpcException Denied(string message) => new(new Status(StatusCode.PermissionDenied, message));
}
