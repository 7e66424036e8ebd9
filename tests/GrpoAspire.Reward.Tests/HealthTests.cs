using System.Net;
using Grpc.Health.V1;

namespace GrpoAspire.Reward.Tests;

public sealed class HealthTests(RewardServiceFixture service) : IClassFixture<RewardServiceFixture>
{
    [Theory]
    [InlineData("/health")]
    [InlineData("/alive")]
    public async Task HealthEndpointsAnswer200OverHttp11(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(service.HttpAddress, path))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var response = await service.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version11, response.Version);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task GrpcHealthCheckReturnsServing()
    {
        var health = new Health.HealthClient(service.Channel);

        var response = await health.CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }
}
