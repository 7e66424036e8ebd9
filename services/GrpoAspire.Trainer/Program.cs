using GrpoAspire.Trainer;

var app = TrainerApp.Build(args);
app.Run();
