using MeterAgent.Emulator;

// Standalone: dotnet run --project src/MeterAgent.Emulator -- --urls http://127.0.0.1:5001 --Emulator:TimeToFirstToken=00:00:00.2
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning); // per-request logs would dominate a load benchmark
builder.Services.AddEmulator();
builder.Services.AddOptions<EmulatorOptions>().BindConfiguration(EmulatorOptions.SectionName).ValidateOnStart();
var app = builder.Build();
app.MapEmulator();
app.Run();
