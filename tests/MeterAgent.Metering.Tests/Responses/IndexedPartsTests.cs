using CsCheck;
using MeterAgent.Metering.Responses.Readers;

namespace MeterAgent.Metering.Tests.Responses;

/// <summary>
/// Parts keyed by the upstream's index (choices, tool calls, blocks) come in any order and repeat: each index has one
/// part, made once, and they are read back in index order, the first kept inline and the rest in an array.
/// </summary>
public sealed class IndexedPartsTests
{
    [Fact]
    public void Parts_are_made_once_per_index_and_read_in_index_order()
    {
        Gen.Int[-3, 12].Array[0, 40].Sample(indexes =>
        {
            using var parts = new IndexedParts<Part>();
            var model = new SortedDictionary<int, Part>();
            foreach (var index in indexes)
            {
                var part = parts.GetOrAdd(index, index, static i => new Part(i));
                if (model.TryGetValue(index, out var existing))
                {
                    Assert.Same(existing, part);
                }
                else
                {
                    model.Add(index, part);
                }
            }

            Assert.Equal(model.Count, parts.Count);
            Assert.Equal(model.Values, Enumerable.Range(0, parts.Count).Select(position => parts[position]));
            Assert.Throws<ArgumentOutOfRangeException>(() => parts[parts.Count]);
            Assert.Throws<ArgumentOutOfRangeException>(() => parts[-1]);

            parts.Clear();
            Assert.All(model.Values, part => Assert.Equal(1, part.Disposed));
            Assert.Equal(0, parts.Count);
            Assert.Equal(7, parts.GetOrAdd(7, 7, static i => new Part(i)).Index);
            Assert.Equal(1, parts.Count);
        }, iter: 2_000);
    }

    private sealed class Part(int index) : IDisposable
    {
        public int Index { get; } = index;

        public int Disposed { get; private set; }

        public void Dispose() => Disposed++;
    }
}
