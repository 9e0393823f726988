using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace MeterAgent.ConsoleTests;

/// <summary>
/// Screenshots of each console page at a desktop and a phone width, kept as the test run's artifacts under
/// <c>artifacts/console-screenshots/</c> in the test output folder, each checked to show something: a blank or
/// single-colour page (a broken stylesheet, an error page with no content) has a handful of colours at most.
/// </summary>
public static class Screenshots
{
    public static readonly (string Name, int Width, int Height)[] Widths = [("desktop", 1280, 800), ("phone", 390, 844)];

    /// <summary>Fewer distinct colours than this is a blank page: text antialiasing alone gives dozens.</summary>
    public const int MinimumColours = 16;

    public static string Folder { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts", "console-screenshots");

    /// <summary>Screenshots <paramref name="page"/> (full page) at both widths, saves them, and asserts each is not blank.</summary>
    public static async Task TakeAsync(IPage page, string name, ITestOutputHelper output)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(output);
        Directory.CreateDirectory(Folder);
        foreach (var (width, w, h) in Widths)
        {
            await page.SetViewportSizeAsync(w, h);
            var path = Path.Combine(Folder, $"{name}-{width}.png");
            var png = await page.ScreenshotAsync(new() { Path = path, FullPage = true });
            var colours = Png.DistinctColours(png);
            output.WriteLine($"screenshot {path}: {colours} colours");
            Assert.True(colours >= MinimumColours, $"{path} looks blank: {colours} distinct colours");
        }

        await page.SetViewportSizeAsync(Widths[0].Width, Widths[0].Height);
    }
}

/// <summary>
/// Just enough of a PNG reader (RFC 2083) to count the colours of a browser's screenshot: 8-bit RGB or RGBA, not
/// interlaced, the IDAT chunks inflated (zlib) and each row's filter undone.
/// </summary>
public static class Png
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static int DistinctColours(byte[] png)
    {
        ArgumentNullException.ThrowIfNull(png);
        var (width, height, channels, pixels) = Decode(png);
        var colours = new HashSet<uint>();
        for (var i = 0; i < width * height; i++)
        {
            var p = i * channels;
            colours.Add((uint)(pixels[p] << 16 | pixels[p + 1] << 8 | pixels[p + 2]) | (channels == 4 ? (uint)pixels[p + 3] << 24 : 0xFF000000));
        }

        return colours.Count;
    }

    public static (int Width, int Height, int Channels, byte[] Pixels) Decode(byte[] png)
    {
        ArgumentNullException.ThrowIfNull(png);
        if (png.Length < 8 || !png.AsSpan(0, 8).SequenceEqual(Signature))
        {
            throw new FormatException("not a PNG");
        }

        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        for (var at = 8; at + 12 <= png.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            var data = png.AsSpan(at + 8, length);
            switch (type)
            {
                case "IHDR":
                    width = (int)BinaryPrimitives.ReadUInt32BigEndian(data);
                    height = (int)BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
                    if (data[8] != 8 || data[12] != 0)
                    {
                        throw new FormatException($"bit depth {data[8]}, interlace {data[12]}: only 8-bit, non-interlaced is read");
                    }

                    channels = data[9] switch
                    {
                        2 => 3,
                        6 => 4,
                        var colourType => throw new FormatException($"colour type {colourType}: only RGB and RGBA are read"),
                    };
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
            }

            at += 12 + length;
        }

        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress))
        {
            zlib.CopyTo(inflated);
        }

        var raw = inflated.ToArray();
        var stride = width * channels;
        if (raw.Length != (stride + 1) * height)
        {
            throw new FormatException($"{raw.Length} bytes of image data for {width}x{height}x{channels}");
        }

        var pixels = new byte[stride * height];
        for (var y = 0; y < height; y++)
        {
            var filter = raw[y * (stride + 1)];
            var row = raw.AsSpan(y * (stride + 1) + 1, stride);
            var current = pixels.AsSpan(y * stride, stride);
            var previous = y > 0 ? pixels.AsSpan((y - 1) * stride, stride) : new byte[stride];
            for (var x = 0; x < stride; x++)
            {
                int a = x >= channels ? current[x - channels] : 0, b = previous[x], c = x >= channels ? previous[x - channels] : 0;
                current[x] = (byte)(row[x] + filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new FormatException($"row {y} has filter {filter}"),
                });
            }
        }

        return (width, height, channels, pixels);
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
