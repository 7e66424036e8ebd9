using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Net.Sockets;

namespace GrpoAspire.Dashboard.Tests;

/// <summary>Starting and stopping: free ports, loopback by default, a taken port fails cleanly.</summary>
public sealed class DashboardHostTests
{
    [Fact]
    public async Task PortZeroBindsThreeDistinctFreeLoopbackPorts()
    {
        await using var dashboard = await TestDashboards.StartAsync();

        Uri[] urls = [dashboard.UiUrl, dashboard.OtlpGrpcUrl, dashboard.OtlpHttpUrl];
        Assert.All(urls, url => Assert.Equal("127.0.0.1", url.Host));
        Assert.All(urls, url => Assert.NotEqual(0, url.Port));
        Assert.Equal(3, urls.Select(url => url.Port).Distinct().Count());
    }

    [Fact]
    public async Task ATakenPortFailsTheStartAndLeavesNothingBound()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var grpcPort = FreePort();

        var options = new DashboardOptions { OtlpGrpcPort = grpcPort, OtlpHttpPort = 0, UiPort = port };
        await Assert.ThrowsAnyAsync<IOException>(() => DashboardHost.StartAsync(options, TestDashboards.ProjectCatalog()));

        // The gRPC endpoint had started before the UI failed: it was stopped, so its port is free again.
        using var again = new TcpListener(IPAddress.Loopback, grpcPort);
        again.Start();
    }

    [Fact]
    public async Task DisposeReleasesThePortsAndMayBeCalledTwice()
    {
        var dashboard = await TestDashboards.StartAsync();
        var port = dashboard.UiUrl.Port;

        await dashboard.DisposeAsync();
        await dashboard.DisposeAsync();

        using var again = new TcpListener(IPAddress.Loopback, port);
        again.Start();
    }

    [Fact]
    public async Task InvalidOptionsAreRefusedWithTheirName()
    {
        var catalog = TestDashboards.ProjectCatalog();

        var size = await Assert.ThrowsAsync<ValidationException>(() =>
            DashboardHost.StartAsync(TestDashboards.FreePorts(new DashboardOptions { MaxMessageBytes = 10 }), catalog));
        var host = await Assert.ThrowsAsync<ArgumentException>(() =>
            DashboardHost.StartAsync(TestDashboards.FreePorts(new DashboardOptions { Host = "dashboard.example" }), catalog));

        Assert.Contains(nameof(DashboardOptions.MaxMessageBytes), size.Message);
        Assert.Contains("dashboard.example", host.Message);
    }

    [Fact]
    public void DefaultsAreAspiresPortsOnLoopback()
    {
        var options = new DashboardOptions();

        Assert.Equal("127.0.0.1", options.Host);
        Assert.Equal(18888, options.UiPort);
        Assert.Equal(18889, options.OtlpGrpcPort);
        Assert.Equal(18890, options.OtlpHttpPort);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
