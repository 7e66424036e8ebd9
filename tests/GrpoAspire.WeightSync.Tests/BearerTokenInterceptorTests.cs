using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace GrpoAspire.WeightSync.Tests;

/// <summary>The interceptor's rules, checked on contexts made by hand (the loopback tests cover the wiring).</summary>
public sealed class BearerTokenInterceptorTests
{
    private const string Guarded = "/grpo.v1.WeightsService/GetWeights";
    private readonly BearerTokenInterceptor _interceptor = new("tok3n", [Guarded, "grpo.v1.ControlService"]);

    private static FakeServerCallContext Call(string method, string? authorization)
    {
        var headers = new Metadata();
        if (authorization is not null)
        {
            headers.Add("authorization", authorization);
        }

        return new FakeServerCallContext(method, headers);
    }

    private void AssertDenied(FakeServerCallContext call, string phrase)
    {
        var error = Assert.Throws<RpcException>(() => _interceptor.Authorize(call));
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains(phrase, error.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Bearer tok3n")]
    [InlineData("bearer tok3n")]
    [InlineData("BEARER  tok3n ")]
    public void RightTokenPassesWhateverTheSchemesCase(string authorization)
    {
        _interceptor.Authorize(Call(Guarded, authorization));
    }

    [Fact]
    public void EveryMethodOfAGuardedServiceNeedsTheToken()
    {
        AssertDenied(Call("/grpo.v1.ControlService/Stop", null), "carried none");
        _interceptor.Authorize(Call("/grpo.v1.ControlService/Stop", "Bearer tok3n"));
    }

    [Fact]
    public void UnguardedMethodsPassWithoutAToken()
    {
        _interceptor.Authorize(Call("/grpo.v1.WeightsService/GetWeightsInfo", null));
        _interceptor.Authorize(Call("/grpo.v1.ControlServiceX/Stop", null));
    }

    [Fact]
    public void OtherSchemesAreDenied() => AssertDenied(Call(Guarded, "Basic dG9rM246"), "is not 'Bearer <token>'");

    [Fact]
    public void SchemeWithoutATokenIsDenied() => AssertDenied(Call(Guarded, "Bearer"), "is not 'Bearer <token>'");

    [Fact]
    public void PrefixOfTheTokenIsDenied() => AssertDenied(Call(Guarded, "Bearer tok3"), "the bearer token is not valid");

    [Fact]
    public void TwoAuthorizationEntriesAreDenied()
    {
        var headers = new Metadata { { "authorization", "Bearer tok3n" }, { "authorization", "Bearer other" } };

        AssertDenied(new FakeServerCallContext(Guarded, headers), "exactly one");
    }

    [Theory]
    [InlineData("")]
    [InlineData("two words")]
    public void UnusableTokensAreRejectedAtConstruction(string token)
    {
        Assert.ThrowsAny<ArgumentException>(() => new BearerTokenInterceptor(token, [Guarded]));
    }

    [Theory]
    [InlineData("grpo.v1.WeightsService/GetWeights")]
    [InlineData("/grpo.v1.WeightsService")]
    [InlineData("/grpo.v1.WeightsService/")]
    [InlineData("//GetWeights")]
    [InlineData(" ")]
    public void MalformedProtectedNamesAreRejectedAtConstruction(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => new BearerTokenInterceptor("tok3n", [name]));

        Assert.Contains("neither a service name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProtectingNothingIsRejected()
    {
        Assert.Throws<ArgumentException>(() => new BearerTokenInterceptor("tok3n", Array.Empty<string>()));
    }

    [Fact]
    public void RegisteringASecondTokenOnOneHostFails()
    {
        var services = new ServiceCollection().AddGrpcBearerToken("one", Guarded);

        var error = Assert.Throws<InvalidOperationException>(() => services.AddGrpcBearerToken("two", Guarded));

        Assert.Contains("already called", error.Message, StringComparison.Ordinal);
    }
}
