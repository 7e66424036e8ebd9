using GrpoAspire.Generation;

var app = GenerationApp.Build(args);
app.Run();
