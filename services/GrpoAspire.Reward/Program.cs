using GrpoAspire.Reward;

var app = RewardApp.Build(args);
app.Run();
