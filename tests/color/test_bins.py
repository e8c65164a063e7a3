import torch

from rehue.color.bins import BINS, GRID, annealed_mean, bin_centres, soft_targets


def test_bins_cover_the_normalised_range_ten_units_apart():
    centres = bin_centres()
    assert centres.shape == (BINS, 2) == (GRID * GRID, 2)
    assert centres.min() == -1 and centres.max() == 1
    assert torch.allclose(centres[1] - centres[0], torch.tensor([0.0, 10 / 110]), atol=1e-6)


def test_soft_targets_are_distributions_whose_mean_is_the_colour():
    ab = torch.rand(3, 2, 5, 7) * 2 - 1
    ab[0, :, 0, 0] = torch.tensor([1.0, -1.0])  # a corner of the grid
    target = soft_targets(ab)
    assert target.shape == (3, BINS, 5, 7)
    assert torch.allclose(target.sum(dim=1), torch.ones(3, 5, 7))
    assert (target > 0).sum(dim=1).max() <= 4, "each pixel spreads over its four nearest bins at most"
    assert torch.allclose(annealed_mean(torch.log(target + 1e-12), bin_centres()), ab, atol=1e-5)
    outside = soft_targets(torch.full((1, 2, 1, 1), 1.5))
    assert torch.allclose(annealed_mean(torch.log(outside + 1e-12), bin_centres()), torch.ones(1, 2, 1, 1),
                          atol=1e-3), "colours beyond the grid go to its edge"


def test_a_lower_temperature_moves_the_mean_to_the_likeliest_bin():
    centres = bin_centres()
    strong, weak = 0, BINS - 1  # the (-1, -1) and (1, 1) corners
    logits = torch.full((1, BINS, 1, 1), -30.0)
    logits[0, strong], logits[0, weak] = 2.0, 1.0
    p = torch.softmax(torch.tensor([2.0, 1.0]), dim=0)
    plain = annealed_mean(logits, centres)
    assert torch.allclose(plain[0, :, 0, 0], p[0] * centres[strong] + p[1] * centres[weak], atol=1e-5)
    a = [float(annealed_mean(logits, centres, t)[0, 0, 0, 0]) for t in (1.0, 0.38, 0.05)]
    assert a[0] > a[1] > a[2] and a[2] < -0.99
