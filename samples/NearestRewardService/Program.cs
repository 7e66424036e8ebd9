// A reward service of your own, out of process. It implements the reward contract (protos/grpo/v1/reward.proto) for
// countdown-nearest records with reward functions of its own, and the AppHost runs it in place of the built-in one:
//   dotnet run --project GrpoAspire.AppHost -- --recipe recipes/countdown-nearest-cpu.yaml \
//     --reward-project samples/NearestRewardService/NearestRewardService.csproj
// Alone it listens on 127.0.0.1:5091 (gRPC) and 5092 (/health), as appsettings.json says.
using GrpoAspire.Samples.NearestReward;

var builder = ServiceDefaultsExtensions.CreateServiceBuilder(args, typeof(SampleRewardService).Assembly);
builder.Services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = 16 * 1024 * 1024);
var app = builder.Build();
app.MapGrpcService<SampleRewardService>();
app.MapDefaultEndpoints();
app.Run();
