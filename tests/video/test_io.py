import logging
from fractions import Fraction

import numpy as np
import pytest

from rehue.errors import RehueError
from rehue.video.io import VideoReader, VideoWriter
from tests.helpers_video import (
    _write_tone,
    audio_codec,
    audio_duration,
    audio_packets,
    encode_frames,
    frame_number,
    level_frames,
    make_audio_file,
    make_clip,
    textured_frames,
    video_codec,
)


def copy_video(source, target, **options):
    """Read ``source`` and write every frame to ``target`` with its timestamps, rotation and audio."""
    with VideoReader(source, start=options.pop("start", None), end=options.pop("end", None)) as reader:
        with VideoWriter.like(reader, target, **options) as writer:
            for frame in reader:
                writer.write(frame.rgb, frame.pts)
    return target


def read_all(path, **kwargs):
    with VideoReader(path, **kwargs) as reader:
        return [(frame.index, frame.time, frame_number(frame.gray)) for frame in reader]


def test_reader_reports_stream_properties(tmp_path):
    clip = make_clip(tmp_path / "a.mp4", level_frames(30), fps=24)
    with VideoReader(clip) as reader:
        assert (reader.width, reader.height) == (64, 48)
        assert reader.fps == Fraction(24)
        assert reader.frame_count == 30
        assert reader.duration_s == pytest.approx(30 / 24, abs=0.01)
        assert reader.codec == "h264"
        assert reader.rotation == 0
        assert not reader.has_audio
        frames = list(reader)
    assert [f.index for f in frames] == list(range(30))
    assert [frame_number(f.gray) for f in frames] == list(range(30))
    assert [f.time for f in frames] == pytest.approx([i / 24 for i in range(30)], abs=1e-3)
    assert frames[0].gray.shape == (48, 64) and frames[0].gray.dtype == np.uint8
    assert frames[0].rgb.shape == (48, 64, 3) and frames[0].rgb.dtype == np.uint8


def test_iterating_again_starts_over(tmp_path):
    clip = make_clip(tmp_path / "a.mkv", level_frames(12), fps=10)
    with VideoReader(clip) as reader:
        first = [frame_number(f.gray) for f in reader]
        second = [frame_number(f.gray) for f in reader]
    assert first == second == list(range(12))


def test_round_trip_keeps_frames_size_rate_and_colours(tmp_path):
    source_frames = level_frames(30)
    clip = make_clip(tmp_path / "a.mp4", source_frames, fps=Fraction(30000, 1001))
    out = copy_video(clip, tmp_path / "out.mp4")
    with VideoReader(out) as reader:
        assert (reader.width, reader.height, reader.fps) == (64, 48, Fraction(30000, 1001))
        frames = list(reader)
    assert [frame_number(f.gray) for f in frames] == list(range(30))
    error = np.abs(frames[7].rgb.astype(int) - source_frames[7].astype(int)).mean()
    assert error < 3


def test_audio_packets_are_copied_untouched(tmp_path):
    clip = make_clip(tmp_path / "a.mp4", level_frames(25), fps=25, audio=True)
    out = copy_video(clip, tmp_path / "out.mkv")
    assert audio_codec(out) == "aac"
    assert audio_packets(out) == audio_packets(clip)


def test_audio_is_reencoded_when_the_container_cannot_hold_it(tmp_path):
    clip = make_clip(tmp_path / "a.mp4", level_frames(25), fps=25, audio=True)
    out = copy_video(clip, tmp_path / "out.webm")
    assert video_codec(out) == "vp9"
    assert audio_codec(out) == "opus"
    assert audio_duration(out) == pytest.approx(audio_duration(clip), abs=0.03)


def test_audio_is_reencoded_when_the_muxer_refuses_it_at_the_header(tmp_path):
    # FFmpeg's .mov muxer says it takes Opus but fails when writing the header
    clip = make_clip(tmp_path / "a.webm", level_frames(25), fps=25, audio=True)
    out = copy_video(clip, tmp_path / "out.mov")
    assert audio_codec(clip) == "opus" and audio_codec(out) == "aac"
    assert [n for _, _, n in read_all(out)] == list(range(25))


def test_only_the_track_a_muxer_refuses_at_the_header_is_reencoded(tmp_path, caplog):
    """Probe 118: a .mov output of a film with a PCM track and an Opus one had both re-encoded to AAC, the
    lossless sound too, with a warning that .mov cannot hold PCM."""
    import av

    from tests.helpers_video import _write_tone

    clip = tmp_path / "two.mkv"
    with av.open(str(clip), "w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        tracks = [container.add_stream(name, rate=48000, layout="stereo") for name in ("pcm_s16le", "libopus")]
        for track, language in zip(tracks, ("eng", "fra"), strict=True):
            track.metadata["language"] = language
        encode_frames(container, video, list(level_frames(25, 48, 64)))
        for track in tracks:
            _write_tone(container, track, 1.0, 48000)
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
        out = copy_video(clip, tmp_path / "out.mov")
    with av.open(str(out)) as container:
        kept = [(stream.codec_context.name, stream.metadata.get("language")) for stream in container.streams.audio]
    assert kept == [("pcm_s16le", "eng"), ("aac", "fra")]
    assert b"".join(audio_packets(out)) == b"".join(audio_packets(clip)), "the PCM copied untouched"
    said = [record.getMessage() for record in caplog.records]
    assert said == [f"{clip}: .mov cannot hold audio track 2's opus sound (48000 Hz), so it is re-encoded to aac "
                    "(48000 Hz); a .mkv output copies any sound as it is"], "probe 121: which of the tracks"
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
        copy_video(clip, tmp_path / "master.mov", codec="prores")
    said = [record.getMessage() for record in caplog.records]  # probe 118: .mkv, which ProRes is not written to
    assert said[0].endswith("ProRes is written to .mov alone, and --codec ffv1 into .mkv copies any sound as it is")


def test_a_track_tag_a_container_cannot_hold_is_said_and_a_language_it_knows_otherwise_is_kept(tmp_path, caplog):
    """Probe 118: a .mov output lost the languages deu and jpn of its tracks, and every commentary, forced and
    hearing-impaired mark, without a word (FFmpeg's .mov muxer knows "ger", not "deu", and keeps only the
    default mark); .mp4 keeps them all."""
    import av

    from tests.helpers_video import _write_tone

    marks = av.stream.Disposition
    clip = tmp_path / "tracks.mkv"
    with av.open(str(clip), "w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        tracks = []
        for language, mark in (("eng", marks.default), ("deu", marks.comment), ("swe", marks.hearing_impaired)):
            tracks.append(container.add_stream("aac", rate=48000, layout="stereo"))
            tracks[-1].metadata["language"], tracks[-1].disposition = language, mark
            tracks[-1].metadata["title"] = f"{language} mix"
        encode_frames(container, video, list(level_frames(10, 48, 64)))
        for track in tracks:
            _write_tone(container, track, 0.4, 48000)
    for suffix, languages, said in (
            (".mov", ["eng", "ger", None], "audio track 2's commentary mark and audio track 3's language (swe) and "
                                           "hard-of-hearing mark, which are left out; .mkv keeps them"),
            (".mkv", ["eng", "deu", "swe"], None), (".mp4", ["eng", "deu", "swe"], None)):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
            out = copy_video(clip, tmp_path / f"out{suffix}")
        with av.open(str(out)) as container:
            assert [stream.metadata.get("language") for stream in container.streams.audio] == languages, suffix
            assert [stream.metadata.get("title") or stream.metadata.get("name")
                    for stream in container.streams.audio] == ["eng mix", "deu mix", "swe mix"], suffix
        warnings = [record.getMessage() for record in caplog.records]
        assert warnings == ([f"{clip}: {suffix} cannot hold {said}"] if said else []), suffix
    phone = make_clip(tmp_path / "phone.mp4", level_frames(5), audio=True)  # probe 119: its language "und" (none)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
        for suffix in (".mkv", ".mov"):
            copy_video(phone, tmp_path / f"phone-copy{suffix}")
    assert not caplog.records, "no language is no language lost"
    again = copy_video(tmp_path / "out.mp4", tmp_path / "again.mkv")  # probe 118: an MP4's track titles, which
    with av.open(str(again)) as container:  # FFmpeg reads as "name", were lost
        assert [stream.metadata.get("title") for stream in container.streams.audio] == ["eng mix", "deu mix",
                                                                                          "swe mix"]
    both = tmp_path / "both.mkv"  # probe 164: two marks of one track were "which is left out"
    with av.open(str(both), "w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        track = container.add_stream("aac", rate=48000, layout="stereo")
        track.disposition = marks.comment | marks.hearing_impaired
        encode_frames(container, video, list(level_frames(10, 48, 64)))
        _write_tone(container, track, 0.4, 48000)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
        copy_video(both, tmp_path / "both.mov")
    assert [record.getMessage() for record in caplog.records] == [
        f"{both}: .mov cannot hold audio track 1's commentary and hard-of-hearing marks, which are left out; "
        ".mkv keeps them"]


def camera_avi(path, frames: int = 15, fps: int = 15, sample_rate: int = 11024):
    """An AVI as an old digital camera wrote one (the KPhotoAlbum demo's movie.avi): MJPEG video and
    8-bit PCM sound at 11,024 Hz in one channel whose speaker is not named ("1 channels")."""
    import av

    with av.open(str(path), "w") as container:
        video = container.add_stream("mjpeg", rate=fps)
        video.width, video.height, video.pix_fmt = 64, 48, "yuvj420p"
        sound = container.add_stream("pcm_u8", rate=sample_rate, layout="1 channels")
        for rgb in level_frames(frames):
            container.mux(video.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(video.encode(None))
        samples = (128 + 100 * np.sin(np.arange(sample_rate * frames // fps) / 10)).astype(np.uint8)[None]
        tone = av.AudioFrame.from_ndarray(samples, format="u8", layout="1 channels")
        tone.sample_rate, tone.pts = sample_rate, 0
        container.mux(sound.encode(tone))
        container.mux(sound.encode(None))
    return path


def test_a_camera_avis_unordered_odd_rate_sound_is_reencoded_for_mp4(tmp_path):
    """MP4 cannot hold 8-bit PCM and AAC refuses an unordered layout and an 11,024 Hz rate: the sound
    goes to AAC, mono, at the nearest rate AAC takes, instead of failing the whole video."""
    import av

    clip = camera_avi(tmp_path / "cam.avi")
    out = copy_video(clip, tmp_path / "out.mp4")
    assert audio_codec(out) == "aac"
    with av.open(str(out)) as container:
        context = container.streams.audio[0].codec_context
        assert (context.sample_rate, context.layout.name) == (11025, "mono")
    assert audio_duration(out) == pytest.approx(audio_duration(clip), abs=0.1)
    assert len(read_all(out)) == 15, "every frame, with the sound"


@pytest.mark.parametrize("source", ["master.mkv", "camera.avi"])
def test_pcm_whose_speakers_are_not_named_is_copied_into_mp4(tmp_path, source):
    """An FFV1 + PCM master in Matroska, or a camera's AVI, holds stereo PCM that says only "2 channels".
    Before, MP4's muxer refused it when the file was closed: after every frame was coloured, with
    "cannot write the video (Invalid argument)"."""
    import av

    clip = make_clip(tmp_path / source, level_frames(12), fps=12, audio=True, audio_codec="pcm_s16le",
                     codec="ffv1" if source.endswith(".mkv") else "mpeg4")
    with av.open(str(clip)) as container:
        assert container.streams.audio[0].codec_context.layout.name == "2 channels", "the case under test"
    out = copy_video(clip, tmp_path / "out.mp4")
    with av.open(str(out)) as container:
        context = container.streams.audio[0].codec_context
        assert (context.name, context.layout.name) == ("pcm_s16le", "stereo"), "copied, its speakers named"
    assert audio_packets(out) == audio_packets(clip), "the samples untouched"
    assert len(read_all(out)) == 12


@pytest.mark.parametrize("target", ["out.mp4", "out.mov", "out.mkv"])
def test_sound_whose_packets_have_no_duration_is_copied_to_its_last_sample(tmp_path, target):
    """ALAC in Matroska gives its packets no duration; MP4's muxer wrote the last with none, and it was not
    decoded: the last 4,096 samples (85 ms at 48 kHz) gone, without a word (probe 196)."""
    import av

    clip = make_clip(tmp_path / "master.mkv", level_frames(20), fps=25, audio=True, audio_codec="alac",
                     sample_rate=48000)

    def samples(path):
        with av.open(str(path)) as container:
            assert container.streams.audio[0].codec_context.name == "alac"
            return sum(frame.samples for frame in container.decode(audio=0))

    with av.open(str(clip)) as container:
        assert not any(packet.duration for packet in container.demux(audio=0)), "the case under test"
    out = copy_video(clip, tmp_path / target)
    assert samples(out) == samples(clip) == 38400
    assert audio_packets(out) == audio_packets(clip), "copied, not encoded again"


def test_the_encoder_takes_the_sources_rate_or_the_nearest_one_above():
    from rehue.video.io import _encoder_rate

    aac = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]
    assert _encoder_rate(11024, aac) == 11025
    assert _encoder_rate(44100, aac) == 44100
    assert _encoder_rate(192000, aac) == 96000
    assert _encoder_rate(11024, None) == 11024, "an encoder that lists no rates takes any"


def test_writer_without_audio_source_writes_no_audio(tmp_path):
    clip = make_clip(tmp_path / "a.mp4", level_frames(10), fps=25, audio=True)
    out = copy_video(clip, tmp_path / "out.mp4", with_tracks=False)
    assert audio_codec(out) is None


def test_variable_frame_rate_timestamps_survive(tmp_path):
    time_base = Fraction(1, 1000)
    pts = [0, 40, 80, 200, 240, 500, 540, 580, 700, 1000]
    clip = make_clip(tmp_path / "vfr.mp4", level_frames(len(pts)), fps=25, pts=pts, time_base=time_base)
    assert [t for _, t, _ in read_all(clip)] == pytest.approx([p / 1000 for p in pts], abs=1e-3)
    out = copy_video(clip, tmp_path / "out.mp4")
    frames = read_all(out)
    assert [t for _, t, _ in frames] == pytest.approx([p / 1000 for p in pts], abs=1e-3)
    assert [n for _, _, n in frames] == list(range(len(pts)))


def test_writer_spaces_frames_by_fps_without_pts(tmp_path):
    out = tmp_path / "out.mp4"
    with VideoWriter(out, 64, 48, 12) as writer:
        for rgb in level_frames(6):
            writer.write(rgb)
    assert [t for _, t, _ in read_all(out)] == pytest.approx([i / 12 for i in range(6)], abs=1e-3)


def test_odd_size_is_padded_for_h264_by_repeating_the_edge(tmp_path, caplog):
    """The players' H.264 (4:2:0) needs even sides; the larger size is said (before: without a word)."""
    rgb = np.zeros((49, 65, 3), np.uint8)
    rgb[:, -1] = 200
    rgb[-1, :] = 120
    out = tmp_path / "odd.mp4"
    with VideoWriter(out, 65, 49, 25) as writer:
        assert (writer.encoded_width, writer.encoded_height) == (66, 50)
        for _ in range(5):
            writer.write(rgb)
    with VideoReader(out) as reader:
        assert (reader.width, reader.height) == (66, 50)
        gray = next(iter(reader)).gray.astype(int)
    assert np.abs(gray[:-1, -1] - gray[:-1, -2]).max() <= 3
    assert np.abs(gray[-1, :-2] - gray[-2, :-2]).max() <= 3
    assert f"{out}: 65x49 has an odd side, and H.264 needs even ones: written as 66x50, the edge pixels repeated; " \
           "write .webm, or .mkv with --codec ffv1, to keep 65x49" in caplog.text


def test_odd_size_is_kept_exactly_in_webm(tmp_path):
    clip = make_clip(tmp_path / "odd.mp4", level_frames(5, 49, 65), fps=25)
    with VideoReader(clip) as reader:
        assert (reader.width, reader.height) == (65, 49)
    out = copy_video(clip, tmp_path / "odd.webm")
    with VideoReader(out) as reader:
        assert (reader.width, reader.height) == (65, 49)
        assert [frame_number(f.gray) for f in reader] == list(range(5))


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_metadata_is_kept(tmp_path, rotation):
    clip = make_clip(tmp_path / "r.mp4", level_frames(4), fps=25, rotation=rotation)
    with VideoReader(clip) as reader:
        assert reader.rotation == rotation
    out = copy_video(clip, tmp_path / "out.mov")
    with VideoReader(out) as reader:
        assert reader.rotation == rotation


def test_a_parts_frame_count_is_the_frames_it_holds_where_start_and_end_fall_between_frames(tmp_path):
    """Probe 42: --start 10.3 --end 50.1 at 25 frames a second gave a progress bar's total one short (487 of
    488): the count's ends were rounded half to even, where the part holds the frames at or after its start."""
    clip = make_clip(tmp_path / "a.mp4", level_frames(40), fps=20)
    for start, end in ((2.5 / 20, 13.5 / 20), (0.41, 1.5), (0.125, None)):
        with VideoReader(clip, start=start, end=end) as reader:
            assert reader.frame_count == sum(1 for _ in reader), (start, end)


def test_start_and_end_pick_frames_and_trim_audio(tmp_path):
    clip = make_clip(tmp_path / "a.mp4", level_frames(40), fps=20, audio=True)
    with VideoReader(clip, start=0.5, end=1.25) as reader:
        assert reader.frame_count == 15
        frames = [(f.index, f.time, frame_number(f.gray)) for f in reader]
    assert [n for _, _, n in frames] == list(range(10, 25))
    assert [i for i, _, _ in frames] == list(range(15))
    assert frames[0][1] == pytest.approx(0.5, abs=1e-3)

    out = copy_video(clip, tmp_path / "out.mp4", start=0.5, end=1.25)
    trimmed = read_all(out)
    assert [n for _, _, n in trimmed] == list(range(10, 25))
    assert trimmed[0][1] == pytest.approx(0.0, abs=1e-3)
    assert audio_duration(out) == pytest.approx(0.75, abs=0.05)


def test_start_works_without_a_seek_index_and_times_count_from_the_stream_start(tmp_path):
    # MPEG-TS has no index (seeks land on any packet) and its streams start after time 0
    clip = make_clip(tmp_path / "a.ts", level_frames(30), fps=20, codec="libx264")
    with VideoReader(clip, start=1.0, end=1.2) as reader:
        assert reader.stream_start_s > 0
        frames = [(round(f.time, 3), frame_number(f.gray)) for f in reader]
    assert frames == [(1.0, 20), (1.05, 21), (1.1, 22), (1.15, 23)]


def test_start_past_the_end_yields_nothing_and_writer_refuses_empty_output(tmp_path):
    clip = make_clip(tmp_path / "a.mp4", level_frames(10), fps=10)
    with pytest.raises(RehueError, match="no video frames"):
        copy_video(clip, tmp_path / "out.mp4", start=5.0)
    assert list(tmp_path.iterdir()) == [clip]


def test_missing_file_folder_and_text_file_are_rehue_errors(tmp_path):
    with pytest.raises(RehueError, match="no such file"):
        VideoReader(tmp_path / "missing.mp4")
    with pytest.raises(RehueError, match="folder"):
        VideoReader(tmp_path)
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 20)
    with pytest.raises(RehueError, match="not a video file") as info:
        VideoReader(text)
    assert info.value.path == str(text)
    (tmp_path / "empty.mp4").touch()
    with pytest.raises(RehueError, match="^.*empty.mp4: empty file$"):  # as an empty photo is named
        VideoReader(tmp_path / "empty.mp4")


def test_audio_only_file_has_no_video_stream(tmp_path):
    song = make_audio_file(tmp_path / "song.m4a")
    with pytest.raises(RehueError, match="no video stream"):
        VideoReader(song)


def overwrite_tail(path, fraction, seed=1):
    """Replace the last ``fraction`` of the file's bytes with noise, keeping its length."""
    data = bytearray(path.read_bytes())
    cut = int(len(data) * (1 - fraction))
    data[cut:] = np.random.default_rng(seed).integers(0, 256, len(data) - cut, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


def noisy_clip(path, count):
    """A clip whose frames are noise, so the file's bytes spread evenly over its frames."""
    rng = np.random.default_rng(0)
    return make_clip(path, [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(count)], fps=25)


def test_corrupt_tail_stops_with_one_warning(tmp_path, caplog):
    clip = noisy_clip(tmp_path / "a.mp4", 40)
    overwrite_tail(clip, 0.4)
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
        with VideoReader(clip) as reader:
            count = sum(1 for _ in reader)
    assert 5 < count < 40
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "damaged" in warnings[0].getMessage()


def test_truncated_file_is_read_up_to_the_cut_with_a_warning(tmp_path, caplog):
    clip = noisy_clip(tmp_path / "a.mp4", 40)
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) * 2 // 3])
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
        with VideoReader(clip) as reader:
            count = sum(1 for _ in reader)
    assert 5 < count < 40
    assert any("truncated" in r.getMessage() for r in caplog.records)


def test_a_matroska_file_cut_short_is_read_with_one_warning_from_its_stated_length(tmp_path, caplog):
    """Matroska states a length but no frame count: before, a copy cut at half its bytes (an interrupted
    transfer) was coloured as a shorter film without a word. Read twice (as the bar probe and the
    colouring do), it warns once; the whole file, a clip with longer sound, and a --start, not at all."""
    clip = make_clip(tmp_path / "a.mkv", textured_frames(100, 48, 64), fps=25)
    with_sound = make_clip(tmp_path / "sound.mkv", textured_frames(50, 48, 64), fps=25, audio=True, audio_seconds=4)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
        for path, start in ((clip, None), (with_sound, None), (cut, 0.5)):
            with VideoReader(path, start=start) as reader:
                assert sum(1 for _ in reader) > 5
        assert not caplog.records
        with VideoReader(cut) as reader:
            times = [frame.time for frame in reader]  # a frame damaged by the cut may be left out
            assert sum(1 for _ in reader) == len(times)
    assert 10 < len(times) < 80
    assert [r.getMessage() for r in caplog.records] == [
        f"{cut}: video ended at {times[-1]:.1f} s of the 4.0 s the file states; the file looks truncated"]


def test_an_mp4_cut_short_before_its_index_is_said_to_be(tmp_path):
    """Probe 109: most cameras write an MP4's index (moov) at its end; a copy cut short was "not a video file
    FFmpeg can read (Invalid data found when processing input)", where the README says a cut-short file is named.
    Probes 110 and 112: cut inside the index, with its index first (rehue's own outputs), or followed by zeros (a
    copy allocated whole), it was "no video stream" or "no decodable video frames"."""
    cut = tmp_path / "cut.mp4"
    for faststart in (False, True):
        data = make_clip(tmp_path / "camera.mp4", list(textured_frames(30, 48, 64)), audio=True,
                         faststart=faststart).read_bytes()
        index, media = data.index(b"moov") - 4, data.index(b"mdat") - 4
        for end, tail in ((len(data) // 10, b""), (index + 20, b""), (media + 800, b""), (media + 800, bytes(4000))):
            cut.write_bytes(data[:end] + tail)
            with pytest.raises(RehueError, match=r"cut.mp4: looks cut short \(an interrupted copy or recording\?\): it "
                                                 r"ends inside what an MP4 or MOV must hold whole"):
                with VideoReader(cut) as reader:
                    list(reader)
        for end in range(64, len(data), 61):  # probe 114: cut in the index's codec or at its end, "unknown codec"
            cut.write_bytes(data[:end])  # or "no decodable video frames": each cut is named, or read in part
            try:
                with VideoReader(cut) as reader:
                    assert sum(1 for _ in reader) > 0
            except RehueError as error:
                assert "looks cut short" in str(error), (faststart, end, str(error))
    (tmp_path / "junk.mp4").write_bytes(b"\0\0\0\x10mdat" + b"x" * 8 + b"garbage, no box at all")
    still = b"\0\0\0\x18ftypmiaf\0\0\0\0mif1miaf\0\0\0\x10meta" + b"x" * 8 + b"\0\0\0\x10mdat" + b"y" * 8
    (tmp_path / "still.heif").write_bytes(still)  # an HEIF picture is no film cut short (probe 112)
    for name in ("junk.mp4", "still.heif"):
        with pytest.raises(RehueError, match="not a video file FFmpeg can read"):
            VideoReader(tmp_path / name)


def test_a_fragmented_mp4_cut_inside_a_fragment_is_named_truncated(tmp_path, caplog):
    """Probe 112: a fragmented MP4 (a live recording's) states no length or frame count; cut inside a fragment's
    header it was coloured in part without a word. Cut at a fragment's end, it is a whole file shorter, as a
    recording stopped there would be."""
    import av

    whole = tmp_path / "live.mp4"
    with av.open(str(whole), "w", options={"movflags": "frag_keyframe+empty_moov"}) as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt, stream.options = 64, 48, "yuv420p", {"g": "6"}
        for picture in textured_frames(24, 48, 64):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode())
    data = whole.read_bytes()
    padded = tmp_path / "padded.mp4"  # a whole MP4 of the usual kind, padded with zeros to a block's size
    padded.write_bytes(make_clip(tmp_path / "plain.mp4", list(textured_frames(12, 48, 64))).read_bytes() + bytes(100))
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
        with VideoReader(padded) as reader:
            assert sum(1 for _ in reader) == 12
    assert not caplog.records
    place, fragments = 0, []
    while place < len(data):  # the top-level boxes
        if data[place + 4:place + 8] == b"moof":
            fragments.append(place)
        place += int.from_bytes(data[place:place + 4], "big")
    assert len(fragments) >= 3
    cut = tmp_path / "cut.mp4"
    counts = []
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
        for end, truncated in ((fragments[2] + 10, True), (fragments[2], False), (len(data), False)):
            cut.write_bytes(data[:end] + (bytes(100) if end == len(data) else b""))  # probe 117: padding is no cut
            caplog.clear()
            with VideoReader(cut) as reader:
                counts.append(sum(1 for _ in reader))
            said = [r.getMessage() for r in caplog.records]
            assert said == ([f"{cut}: video ended after {counts[-1]} frames, inside a part of the file cut short; "
                             "the file looks truncated"] if truncated else []), (end, said)
    assert 0 < counts[0] == counts[1] < counts[2] == 24, counts


def test_a_short_matroska_clip_cut_short_is_named_too(tmp_path, caplog):
    """Before, a 2 s clip that lost 40% of its frames was not warned of: the slack was a whole second."""
    clip = make_clip(tmp_path / "a.mkv", textured_frames(50, 48, 64), fps=25)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size * 6 // 10])
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
        with VideoReader(clip) as reader:
            assert sum(1 for _ in reader) == 50
        assert not caplog.records, "the whole clip is not called truncated"
        with VideoReader(cut) as reader:
            assert 3 < sum(1 for _ in reader) < 45
    assert ["the file looks truncated" in r.getMessage() for r in caplog.records] == [True]


def test_a_matroska_film_missing_less_than_a_twentieth_is_named_and_a_slide_show_kept_whole_is_not(tmp_path,
                                                                                                     caplog):
    """Probe 83: the slack was 5% of the stated length where that was more than a quarter second: a film cut
    at 95.5% of its bytes lost 3.4 s of 80 without a word (6 minutes could go of a 2-hour one), and a 20-frame
    clip 5 of its frames. A slide show's last frame, shown for seconds, is no file cut short."""
    clip = make_clip(tmp_path / "a.mkv", textured_frames(400, 48, 64), fps=25)  # 16 s: a slack of 0.8 s before
    slides = make_clip(tmp_path / "slides.webm", textured_frames(5, 48, 64), fps=10, pts=[0, 1, 5, 6, 40],
                       codec="libvpx-vp9")
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size * 97 // 100])
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
        for path in (clip, slides):
            with VideoReader(path) as reader:
                assert [frame.index for frame in reader][-1] in (399, 4)
        assert not caplog.records
        with VideoReader(cut) as reader:
            count = sum(1 for _ in reader)
    assert 380 < count < 397 and ["the file looks truncated" in r.getMessage() for r in caplog.records] == [True]


def test_non_square_pixels_and_the_films_own_tags_are_kept(tmp_path, caplog):
    """Before, a 720x480 DV or DVD film (pixels 8:9) came out with square pixels, shown 12% too wide, and
    lost its title, date and copyright; only rehue's comment was written."""
    import av

    source = tmp_path / "dv.mp4"
    with av.open(str(source), "w") as container:
        container.metadata.update({"title": "Reel 7, Harbour 1952", "copyright": "City Archive",
                                   "comment": "telecine 1999"})
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.codec_context.sample_aspect_ratio = Fraction(8, 9)
        encode_frames(container, stream, textured_frames(5, 64, 96))
    with VideoReader(source) as reader:
        assert reader.sample_aspect_ratio == Fraction(8, 9)
        assert reader.metadata == {"title": "Reel 7, Harbour 1952", "copyright": "City Archive",
                                   "comment": "telecine 1999"}
        outputs = {}
        for name, codec in (("out.mp4", "auto"), ("out.mkv", "auto"), ("master.mkv", "ffv1")):
            with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
                with VideoWriter.like(reader, tmp_path / name, codec=codec, comment="rehue") as writer:
                    for frame in reader:
                        writer.write(frame.rgb, frame.pts)
            outputs[name] = [r.getMessage() for r in caplog.records]
            caplog.clear()
    for name in ("out.mp4", "out.mkv", "master.mkv"):
        with VideoReader(tmp_path / name) as reader:
            assert {key.lower(): value for key, value in reader._container.metadata.items()
                    if key.lower() in ("title", "copyright", "comment")} == {
                "title": "Reel 7, Harbour 1952", "copyright": "City Archive", "comment": "telecine 1999; rehue"}
            kept = reader.sample_aspect_ratio == Fraction(8, 9)
        assert kept == (name != "master.mkv"), name
        assert len(outputs[name]) == (name == "master.mkv"), outputs[name]
    assert "pixels are not square (8/9)" in outputs["master.mkv"][0] and "too wide" in outputs["master.mkv"][0]


def test_chapters_and_timecode_are_carried_and_a_part_keeps_the_chapters_it_spans(tmp_path):
    """Before, a film's chapters (its reels) and a MOV's start timecode were dropped without a word."""
    import av

    source = tmp_path / "reels.mov"
    with av.open(str(source), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.metadata["timecode"] = "01:00:00:00"
        container.set_chapters([{"id": k + 1, "start": 1000 * k, "end": 1000 * (k + 1), "time_base": Fraction(1, 1000),
                                 "metadata": {"title": f"Reel {k + 1}"}} for k in range(3)])
        encode_frames(container, stream, textured_frames(75, 48, 64))

    def chapters_and_timecode(path):
        with av.open(str(path)) as container:
            spans = [(round(float(c["start"] * c["time_base"]), 2), round(float(c["end"] * c["time_base"]), 2),
                      c["metadata"].get("title")) for c in container.chapters()]
            with VideoReader(path) as reader:
                return spans, reader.timecode

    whole = copy_video(source, tmp_path / "whole.mov")
    assert chapters_and_timecode(whole) == ([(0, 1, "Reel 1"), (1, 2, "Reel 2"), (2, 3, "Reel 3")], "01:00:00:00")
    with VideoReader(whole) as reader:
        assert reader.streams_not_carried() == [], "MOV's chapter track is the chapters, carried: nothing is lost"
    part = copy_video(source, tmp_path / "part.mkv", start=1.5, end=2.5)
    spans, timecode = chapters_and_timecode(part)
    # moved to the part's first frame, at 1.52 s (probe 118: by --start, a frame late), and cut to its end
    assert spans == [(0, 0.48, "Reel 2"), (0.48, 0.98, "Reel 3")]
    assert timecode == "01:00:01:13", "the part starts 38 frames (1.5 s at 25 fps) after the reel; Matroska's tag read"


def test_a_timecode_moves_with_the_start_of_a_part():
    from rehue.video.io import shifted_timecode

    assert shifted_timecode("00:59:59:24", 1 / 25, Fraction(25)) == "01:00:00:00"
    # the first frame at or after 61.5 s is frame 1844 (frame 1843 is at 61.495 s)
    assert shifted_timecode("10:00:00:00", 61.5, Fraction(30000, 1001)) == "10:01:01:14"
    # probe 43: --start 0.5 at 25 fps begins with frame 13 (0.52 s); its time code was frame 12's, rounded half to even
    assert shifted_timecode("01:00:10:05", 0.5, Fraction(25)) == "01:00:10:18"
    assert shifted_timecode("01:00:00:00", None, Fraction(25)) == "01:00:00:00", "a whole film keeps its own"
    assert shifted_timecode("01:00:00;00", 2.0, Fraction(30000, 1001)) is None, "drop-frame is not moved"


def test_raw_dv_is_read_at_its_frame_rate_not_its_demuxers_clock(tmp_path):
    """FFmpeg states an average rate of 60000 for raw DV: before, it was refused as "frame rate 60000 fps
    is implausible"."""
    import av

    path = tmp_path / "tape.dv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("dvvideo", rate=25)
        stream.width, stream.height, stream.pix_fmt = 720, 576, "yuv420p"
        encode_frames(container, stream, textured_frames(3, 576, 720))
    with VideoReader(path) as reader:
        assert reader.fps == 25
    assert len(read_all(copy_video(path, tmp_path / "tape.mp4"))) == 3


def subtitled_film(path, *, text_codec="subrip", bitmap=False, attachment=False):
    """A 2-second, 25 fps film with a French text subtitle track ("Bonjour" 0.2-0.8 s, "Au revoir"
    1.0-1.6 s), optionally a DVD bitmap track after it and an attached font."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        text = container.add_mux_stream(text_codec, time_base=Fraction(1, 1000))
        text.metadata["language"] = "fra"
        tracks = [(text, [(200, 600, b"Bonjour"), (1000, 600, b"Au revoir")])]
        if bitmap:
            tracks.append((container.add_mux_stream("dvd_subtitle", time_base=Fraction(1, 1000)),
                           [(200, 600, b"\x00\x10" + bytes(14))]))
        if attachment:
            container.add_attachment("captions.ttf", "font/ttf", b"a font's bytes")
        container.start_encoding()
        for track, cues in tracks:
            mux_cues(container, track, cues)
        encode_frames(container, stream, textured_frames(50, 48, 64))
    return path


def mux_cues(container, track, cues) -> None:
    """Write ``cues``, (start ms, length ms, payload bytes), as ``track``'s packets (its time base 1/1000)."""
    import av

    for start, length, payload in cues:
        packet = av.Packet(payload)
        packet.stream, packet.pts, packet.dts, packet.duration = track, start, start, length
        container.mux(packet)


def subtitles_of(path):
    """Each subtitle track's codec, language and (start s, end s, text) cues; MP4's empty filler
    samples are left out."""
    import av

    tracks = []
    with av.open(str(path)) as container:
        for stream in container.streams.subtitles:
            cues = []
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                text = bytes(packet)[2:] if stream.codec_context.codec.canonical_name == "mov_text" else bytes(packet)
                if text:
                    start = float(packet.pts * packet.time_base)
                    cues.append((round(start, 2), round(start + float(packet.duration * packet.time_base), 2),
                                 text.decode()))
            tracks.append((stream.codec_context.codec.canonical_name, stream.metadata.get("language"), cues))
            container.seek(0)
    return tracks


@pytest.mark.parametrize(("suffix", "codec"), [(".mkv", "subrip"), (".mp4", "mov_text"), (".mov", "mov_text"),
                                               (".webm", "webvtt")])
def test_text_subtitles_are_carried_in_a_format_the_container_holds(tmp_path, suffix, codec):
    """Before, a film's subtitles were left out of its colour version (with a warning)."""
    out = copy_video(subtitled_film(tmp_path / "film.mkv"), tmp_path / f"out{suffix}")
    assert subtitles_of(out) == [(codec, "fra", [(0.2, 0.8, "Bonjour"), (1.0, 1.6, "Au revoir")])]



def test_subtitles_a_container_turns_on_are_said(tmp_path, caplog):
    """An .mkv's subtitles, off until asked for, came out of .mp4 and .mov marked to be shown (FFmpeg's MP4
    writer marks the first track of a kind where none is) without a word."""
    import av

    film = subtitled_film(tmp_path / "film.mkv")
    for suffix in (".mp4", ".mov", ".mkv"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
            out = copy_video(film, tmp_path / f"out{suffix}")
        with av.open(str(out)) as container:
            shown = bool(container.streams.subtitles[0].disposition & av.stream.Disposition.default)
        assert shown == (suffix != ".mkv"), suffix
        said = [record.getMessage() for record in caplog.records]
        assert said == ([f"{film}: a player shows the subtitles of out{suffix} unasked, where the source leaves them "
                         f"off: {suffix} marks the first track of a kind to be shown where none is; .mkv keeps them "
                         "off"] if shown else []), suffix
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
        copy_video(tmp_path / "out.mp4", tmp_path / "again.mp4")
    assert not caplog.records, "subtitles the source shows already: nothing turned on"

def test_a_part_keeps_the_subtitles_it_spans_cut_to_its_frames(tmp_path):
    source = subtitled_film(tmp_path / "film.mkv")
    for suffix in (".mkv", ".mp4"):
        part = copy_video(source, tmp_path / f"part{suffix}", start=0.5, end=1.3)
        # the first frame is at 0.52 s: "Bonjour" is shown from it to 0.8, "Au revoir" from 1.0 to the end
        assert subtitles_of(part)[0][2] == [(0.0, 0.28, "Bonjour"), (0.48, 0.78, "Au revoir")], suffix


def test_overlapping_subtitles_end_where_the_next_begins_in_mp4_and_a_cut_one_is_exact_to_the_tick(tmp_path,
                                                                                                     caplog):
    """Probe 235: two speakers at once into .mp4 or .mov, the second cue was put after the first by FFmpeg's writer,
    0.6 s late, and every cue after it later still, without a word; a cue cut to a part began 1 ms late and ended
    1 ms early (221 ticks of a float 220.00000000000003)."""
    import av

    source = tmp_path / "film.mkv"
    with av.open(str(source), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        text = container.add_mux_stream("subrip", time_base=Fraction(1, 1000))
        container.start_encoding()
        mux_cues(container, text, [(100, 4900, b"Long"), (600, 400, b"Speaker B"), (1400, 300, b"Third"),
                                   (1400, 200, b"Fourth")])
        encode_frames(container, stream, textured_frames(50, 48, 64))

    def cues(path):
        with av.open(str(path)) as container:
            return [(packet.pts * packet.time_base, (packet.pts + packet.duration) * packet.time_base,
                     bytes(packet)[2:].decode() if container.format.name.startswith("mov") else bytes(packet).decode())
                    for packet in container.demux(subtitles=0) if packet.pts is not None and packet.size > 2]

    for suffix in (".mp4", ".mov"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="rehue"):
            out = copy_video(source, tmp_path / f"out{suffix}")
        assert cues(out) == [(Fraction(1, 10), Fraction(6, 10), "Long"), (Fraction(6, 10), Fraction(1), "Speaker B"),
                             (Fraction(14, 10), Fraction(17, 10), "Third\nFourth")], suffix  # probe 236: begun
        assert caplog.records[-1].getMessage() == (  # together, Third was a tick, and Fourth ended late
            f"{source}: 1 subtitle that overlaps the next is cut short where it begins and 1 subtitle that begins with "
            "the one before is joined to it: an MP4 or MOV text track shows one subtitle at a time (.mkv keeps them "
            "as they are)")
    assert cues(copy_video(source, tmp_path / "out.mkv"))[0] == (Fraction(1, 10), Fraction(5), "Long")
    part = copy_video(source, tmp_path / "part.mkv", start=0.5, end=1.0)  # its first frame at 0.52 s
    assert cues(part)[0] == (0, Fraction(48, 100), "Long"), "from the part's first frame to its end, to the tick"
    part = copy_video(source, tmp_path / "part.mp4", start=0.7, end=1.0)  # both begun before it: at its first frame
    assert cues(part) == [(0, Fraction(28, 100), "Long\nSpeaker B")]


def test_numbered_frames_say_the_subtitles_and_attached_files_they_leave_out(tmp_path, tiny_model, capsys):
    """Probe 235: a film's subtitles, chapters and attached fonts were left out of its numbered frames without a
    word; only its sound was said."""
    from rehue.cli import main

    source = subtitled_film(tmp_path / "film.mkv", attachment=True)
    with VideoReader(source) as reader:
        assert reader.beside_the_picture() == ["subtitles", "attached files"]
    with VideoReader(make_clip(tmp_path / "plain.mp4", textured_frames(2, 48, 64))) as reader:
        assert reader.beside_the_picture() == []
    import av

    talk = tmp_path / "talk.mp4"  # probe 236: a subtitle track of as many cues as chapters was taken for the chapters
    with av.open(str(talk), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        text = container.add_mux_stream("mov_text", time_base=Fraction(1, 1000))
        container.set_chapters([{"id": k + 1, "start": 1000 * k, "end": 1000 * (k + 1), "time_base": Fraction(1, 1000),
                                 "metadata": {"title": f"Part {k + 1}"}} for k in range(2)])
        container.start_encoding()
        mux_cues(container, text, [(0, 1000, b"\x00\x02Hi")])  # a cue and the empty sample after it
        encode_frames(container, stream, textured_frames(50, 48, 64))
    with VideoReader(talk) as reader:
        assert len(reader.chapters()) == 2 and reader.beside_the_picture() == ["subtitles", "chapters"]
    assert main(["colorize", str(source), "-o", str(tmp_path / "frames" / "f_%04d.png"), "--model", str(tiny_model),
                 "--dependent-model", "none", "--no-progress"]) == 0
    assert f"note: {source}: its subtitles and attached files are not in the frames (pictures hold none); the " \
        "film's own go with them in an edit" in capsys.readouterr().err.splitlines()


def test_a_part_with_no_subtitle_in_it_gets_no_subtitle_track(tmp_path, tiny_model, capsys):
    """Probe 130: a part cut before the first subtitle, between two or after the last got an empty subtitle
    track, which .mp4 and .mov marked to be shown."""
    import av

    from rehue.cli import main

    source = subtitled_film(tmp_path / "film.mkv")
    for start, end in ((None, 0.15), (0.85, 0.95), (1.7, None)):
        for suffix in (".mkv", ".mp4"):
            part = copy_video(source, tmp_path / f"part{start}-{end}{suffix}", start=start, end=end)
            with av.open(str(part)) as container:
                assert not container.streams.subtitles and len(container.streams.video) == 1, (start, end, suffix)
    assert subtitles_of(copy_video(source, tmp_path / "late.mp4", start=0.7))[0][2] == \
        [(0.0, 0.08, "Bonjour"), (0.28, 0.88, "Au revoir")], "a subtitle begun before the part is in it"
    assert main(["colorize", str(source), "-o", str(tmp_path / "colour.mp4"), "--end", "0.15", "--model",
                 str(tiny_model), "--no-progress"]) == 0
    assert f"warning: {source}: 1 subtitle track (none of its subtitles is shown in the part cut, or begins in the " \
        "60 s before it) is not carried to the colour version" in capsys.readouterr().err
    # probe 146: a part of a film whose subtitle track FFmpeg cannot decode (TTML in .mp4) ended in a traceback
    import av

    with av.open(str(tmp_path / "ttml.mp4"), "w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        track = container.add_mux_stream("ttml", time_base=Fraction(1, 1000))
        container.start_encoding()
        mux_cues(container, track, [(200, 600, b"<tt>Hi</tt>"), (1000, 600, b"<tt>Hi</tt>")])
        encode_frames(container, video, textured_frames(50, 48, 64))
    assert main(["colorize", str(tmp_path / "ttml.mp4"), "-o", str(tmp_path / "ttml-part.mp4"), "--end", "1.5",
                 "--model", str(tiny_model), "--no-progress"]) == 0
    assert "1 subtitle stream (an unknown format" in capsys.readouterr().err


def sounded_subtitled_film(path):
    """A 4-second, 25 fps film with a key frame each second, English and French sound, and two text subtitle
    tracks: English "Long one" 0.2-2.8 s and "Late" 3.0-3.5 s, French "Early only" 0.5-0.8 s."""
    import av

    mp4 = path.suffix == ".mp4"
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        video.codec_context.gop_size = 25
        sounds = [container.add_stream("aac", rate=44100, layout="stereo") for _ in range(2)]
        cues = {"eng": [(200, 2600, b"Long one"), (3000, 500, b"Late")], "fra": [(500, 300, b"Early only")]}
        tracks = []
        for sound, language in zip(sounds, cues, strict=True):
            sound.metadata["language"] = language
            track = container.add_mux_stream("mov_text" if mp4 else "subrip", time_base=Fraction(1, 1000))
            track.metadata["language"] = language
            tracks.append((track, cues[language]))
        container.start_encoding()
        for track, said in tracks:
            mux_cues(container, track, [(start, length, len(text).to_bytes(2, "big") + text if mp4 else text)
                                        for start, length, text in said])
        encode_frames(container, video, textured_frames(100, 48, 64))
        for number, sound in enumerate(sounds):
            _write_tone(container, sound, 4.0, 44100, 440 * (number + 1))
    return path


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_a_parts_subtitles_are_found_before_its_key_frame_and_mp4_fillers_are_no_subtitle(tmp_path, suffix):
    """Probe 144: a part of a Matroska film with sound starting at 2 s lost "Long one" (shown from 0.2 s to 2.8 s):
    the seek landed on the video's key frame at 2 s, after it began, and the track was left out as empty; a part
    of an MP4 film before its first subtitle kept empty tracks, MP4's fillers of the gaps taken for subtitles."""
    source = sounded_subtitled_film(tmp_path / f"film{suffix}")
    part = copy_video(source, tmp_path / f"part{suffix}", start=2, end=3)
    assert [(language, cues) for _, language, cues in subtitles_of(part)] == [("eng", [(0.0, 0.8, "Long one")])]
    import av

    early = copy_video(source, tmp_path / f"early{suffix}", end=0.15)
    with av.open(str(early)) as container:
        assert not container.streams.subtitles and len(container.streams.audio) == 2


def test_bitmap_subtitles_and_attachments_go_where_the_container_holds_them(tmp_path):
    import av

    source = subtitled_film(tmp_path / "film.mkv", bitmap=True, attachment=True)
    with VideoReader(source) as reader:
        assert reader.streams_not_carried() == [], "subtitles and attachments depend on the output"
        with VideoWriter.like(reader, tmp_path / "out.mkv") as writer:
            for frame in reader:
                writer.write(frame.rgb, frame.pts)
        assert writer.left_out == []
        with VideoWriter.like(reader, tmp_path / "out.webm") as writer:
            for frame in reader:
                writer.write(frame.rgb, frame.pts)
        assert writer.left_out == ["1 subtitle stream (dvd_subtitle, which .webm cannot hold; .mkv keeps it)",
                                   "1 attachment (.mkv keeps it)"]
    assert [codec for codec, _, _ in subtitles_of(tmp_path / "out.mkv")] == ["subrip", "dvd_subtitle"]
    with av.open(str(tmp_path / "out.mkv")) as container:
        attached = [(s.name, s.mimetype, s.data) for s in container.streams if s.type == "attachment"]
    assert attached == [("captions.ttf", "font/ttf", b"a font's bytes")]
    assert [codec for codec, _, _ in subtitles_of(tmp_path / "out.webm")] == ["webvtt"]
    with VideoReader(source) as reader:  # probe 235: the docs said .mkv alone, where .mp4 holds DVD's too
        with VideoWriter.like(reader, tmp_path / "out.mp4") as writer:
            for frame in reader:
                writer.write(frame.rgb, frame.pts)
        assert writer.left_out == ["1 attachment (.mkv keeps it)"]
    assert [codec for codec, _, _ in subtitles_of(tmp_path / "out.mp4")] == ["mov_text", "dvd_subtitle"]


def test_cover_art_is_kept_in_mkv_and_mp4(tmp_path):
    """Before, a film's cover picture was left out of its colour version (with a warning)."""
    import io

    import av
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 10)).save(picture, "JPEG")
    source = tmp_path / "film.mkv"
    with av.open(str(source), "w") as container:
        stream = container.add_stream("libx264", rate=4)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.add_attachment("poster.jpg", "image/jpeg", picture.getvalue())
        encode_frames(container, stream, textured_frames(4, 48, 64))

    def covers(path):
        with av.open(str(path)) as container:
            streams = [s for s in container.streams.video if s.disposition & av.stream.Disposition.attached_pic]
            return [(s.metadata.get("filename"), bytes(next(p for p in container.demux(s) if p.size)))
                    for s in streams]

    assert covers(source) == [("poster.jpg", picture.getvalue())]
    as_mp4 = copy_video(source, tmp_path / "out.mp4")
    assert covers(as_mp4) == [(None, picture.getvalue())], "MP4 keeps the picture, not its name"
    assert covers(copy_video(as_mp4, tmp_path / "back.mkv")) == [("cover.jpg", picture.getvalue())]
    assert covers(copy_video(source, tmp_path / "out.mkv")) == [("poster.jpg", picture.getvalue())]
    with VideoReader(source) as reader, VideoWriter.like(reader, tmp_path / "out.mov") as writer:
        for frame in reader:
            writer.write(frame.rgb, frame.pts)
    assert writer.left_out == ["1 attached picture (cover art; .mkv and .mp4 keep it)"]


def test_a_larger_picture_track_of_one_frame_is_not_taken_for_the_film(tmp_path):
    """Probe 217: FFmpeg's Matroska writer stores a cover picture as an ordinary one-frame MJPEG track; larger than
    the film, it was coloured in its place (1 frame, the 20-frame film left out)."""
    import av

    source = tmp_path / "cover.mkv"
    with av.open(str(source), "w") as container:
        cover = container.add_stream("mjpeg")
        cover.width, cover.height, cover.pix_fmt = 128, 96, "yuvj420p"
        film = container.add_stream("libx264", rate=25)
        film.width, film.height, film.pix_fmt = 64, 48, "yuv420p"
        picture = av.VideoFrame.from_ndarray(np.full((96, 128, 3), 120, np.uint8), format="rgb24")
        picture = picture.reformat(format="yuvj420p")
        picture.pts = 0
        for packet in [*cover.encode(picture), *cover.encode()]:
            container.mux(packet)
        encode_frames(container, film, textured_frames(20, 48, 64))
    with VideoReader(source) as reader:
        assert (reader.width, reader.height) == (64, 48) and len(list(reader)) == 20
    with av.open(str(source)) as container:  # probe 218: written to a pipe, a Matroska file states no length
        first, second = container.streams.video
        tags = [dict(stream.metadata) for stream in (first, second)]
    assert "DURATION" in tags[0]
    unstated = tmp_path / "piped.mkv"
    unstated.write_bytes(source.read_bytes().replace(b"DURATION", b"DURATIOX"))
    with av.open(str(unstated)) as container:
        assert all("DURATION" not in stream.metadata for stream in container.streams.video)
    with VideoReader(unstated) as reader:
        assert (reader.width, reader.height) == (64, 48) and len(list(reader)) == 20


def test_an_mjpeg_film_piped_beside_a_small_preview_is_the_film(tmp_path):
    """Probe 220 (stop 62): a Matroska file written to a pipe states no track's length, and an MJPEG film in it,
    of a still picture's codec, was passed over for a small H.264 preview beside it; its packets are counted."""
    import av

    source = tmp_path / "film.mkv"
    with av.open(str(source), "w") as container:
        preview = container.add_stream("libx264", rate=25)
        preview.width, preview.height, preview.pix_fmt = 32, 24, "yuv420p"
        film = container.add_stream("mjpeg", rate=25)
        film.width, film.height, film.pix_fmt = 128, 96, "yuvj420p"
        encode_frames(container, film, textured_frames(12, 96, 128))
        encode_frames(container, preview, textured_frames(12, 24, 32))
    piped = tmp_path / "piped.mkv"
    piped.write_bytes(source.read_bytes().replace(b"DURATION", b"DURATIOX"))
    for path in (source, piped):
        with av.open(str(path)) as container:
            assert ("DURATION" in container.streams.video[1].metadata) == (path == source)
        with VideoReader(path) as reader:
            assert (reader.width, reader.height) == (128, 96) and len(list(reader)) == 12, path


def test_the_picture_tracks_own_title_and_language_are_kept(tmp_path):
    """Probe 217: the video track's language (deu) and title came out "und" and none, without a word, where the
    sound tracks' are kept."""
    import av

    source = tmp_path / "film.mp4"
    with av.open(str(source), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.metadata.update(language="deu", title="Hauptfilm")
        encode_frames(container, stream, textured_frames(3, 48, 64))
    for suffix in (".mp4", ".mkv", ".mov"):
        with av.open(str(copy_video(source, tmp_path / f"out{suffix}"))) as written:
            tags = written.streams.video[0].metadata
            assert tags.get("language") in ("deu", "ger") and (tags.get("title") or tags.get("name")) == "Hauptfilm", \
                (suffix, dict(tags))


def test_a_picture_tracks_title_too_long_to_keep_is_cut_with_a_warning(tmp_path, caplog):
    """Probe 218: a title of 200,000 characters came out of MP4's writer cut to 21,588, twice, without a word."""
    import av

    source = tmp_path / "film.mkv"
    with av.open(str(source), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.metadata["title"] = "T" * 5000
        encode_frames(container, stream, textured_frames(3, 48, 64))

    def cut_once(film, kind: str, title: str, said: str) -> None:
        """``film`` copied into .mp4: the title of its first ``kind`` track ``title``, one key for it, ``said``."""
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
            out = copy_video(film, tmp_path / f"{film.stem}.mp4")
        with av.open(str(out)) as written:
            tags = dict(getattr(written.streams, kind)[0].metadata)
        assert [tags.get("title") or tags.get("name")] == [title] and not [key for key in tags if "-" in key], tags
        assert [r.getMessage() for r in caplog.records] == [said]

    cut_once(source, "video", "T" * 1000,
             f"{source}: its picture track's title (5,000 characters) is cut to its first 1,000")
    # probe 220: a sound track's, as the source has it, cut by MP4's writer and written twice
    titled = make_clip(tmp_path / "titled.mkv", list(textured_frames(3, 48, 64)), fps=25, audio=True,
                       titles=["A" * 5000])
    cut_once(titled, "audio", "A" * 1000,
             f"{titled}: its audio track 1's title (5,000 characters) is cut to its first 1,000")
    caplog.clear()  # probe 222: twice where the writer opened its output again (FLAC, which .mov refuses)
    flac = make_clip(tmp_path / "flac.mkv", list(textured_frames(3, 48, 64)), fps=25, audio=True, audio_codec="flac",
                     languages=["eng", "deu"], titles=["short", "é" * 1001])
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
        copy_video(flac, tmp_path / "flac.mov")
    assert [r.getMessage() for r in caplog.records if "title (" in r.getMessage()] == [
        f"{flac}: its audio track 2's title (1,001 characters) is cut to its first 1,000"]


def test_a_part_of_a_film_with_cover_art_and_subtitles_keeps_both(tmp_path):
    """Review of stop 54: a part's subtitle check read the file before the cover art was looked for, from where it
    had left off, so a part of an .mp4 with both lost its cover (and, the order turned, its first subtitles)."""
    import io

    import av
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 10)).save(picture, "JPEG")
    with av.open(str(tmp_path / "film.mkv"), "w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        track = container.add_mux_stream("subrip", time_base=Fraction(1, 1000))
        container.add_attachment("poster.jpg", "image/jpeg", picture.getvalue())
        container.start_encoding()
        mux_cues(container, track, [(200, 600, b"Hi"), (1000, 600, b"Hi")])
        encode_frames(container, video, textured_frames(50, 48, 64))
    film = copy_video(tmp_path / "film.mkv", tmp_path / "film.mp4")  # the cover as MP4 holds it, a picture stream
    part = copy_video(film, tmp_path / "part.mp4", start=0.5, end=1.3)
    with av.open(str(part)) as container:
        assert sum(bool(stream.disposition & av.stream.Disposition.attached_pic)
                   for stream in container.streams.video) == 1
    assert [text for _, _, text in subtitles_of(part)[0][2]] == ["Hi", "Hi"]


def dominant_hz(path, track: int) -> float:
    """The frequency of the loudest tone in one audio track (from its zero crossings)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[track]
        samples = np.concatenate([frame.to_ndarray()[0] for frame in container.decode(stream)])
        rate = stream.codec_context.sample_rate
    crossings = np.count_nonzero(np.diff(np.signbit(samples[rate // 10:])))
    return crossings / 2 / ((len(samples) - rate // 10) / rate)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_every_audio_track_is_kept_in_order_with_its_language(tmp_path, suffix):
    """Before, only the "best" audio track was copied: a film's second language, or its commentary,
    was dropped without a word."""
    source = make_clip(tmp_path / f"two{suffix}", textured_frames(25, 48, 64), fps=25, audio=True,
                       languages=("eng", "fra"))
    with VideoReader(source) as reader, VideoWriter.like(reader, tmp_path / f"out{suffix}") as writer:
        for frame in reader:
            writer.write(frame.rgb, frame.pts)
    with VideoReader(tmp_path / f"out{suffix}") as out:
        languages = [stream.metadata.get("language") for stream in out._container.streams.audio]
    assert languages == ["eng", "fra"]
    assert [round(dominant_hz(tmp_path / f"out{suffix}", k) / 440) for k in (0, 1)] == [1, 2]


def test_no_decodable_frame_is_a_rehue_error(tmp_path):
    clip = noisy_clip(tmp_path / "a.mp4", 10)
    data = bytearray(clip.read_bytes())
    payload = data.find(b"mdat") + 4
    data[payload:] = np.random.default_rng(2).integers(0, 256, len(data) - payload, dtype=np.uint8).tobytes()
    clip.write_bytes(bytes(data))
    with VideoReader(clip) as reader, pytest.raises(RehueError, match="no decodable video frames"):
        next(iter(reader))


def test_exception_inside_with_leaves_no_file(tmp_path):
    out = tmp_path / "out.mp4"
    with pytest.raises(KeyError), VideoWriter(out, 64, 48, 25) as writer:
        writer.write(level_frames(1)[0])
        raise KeyError("boom")
    assert list(tmp_path.iterdir()) == []


def test_abort_removes_the_partial_file(tmp_path):
    writer = VideoWriter(tmp_path / "out.mp4", 64, 48, 25)
    writer.write(level_frames(1)[0])
    assert len(list(tmp_path.iterdir())) == 1
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_a_writer_dropped_before_a_with_holds_it_leaves_no_temp_file(tmp_path):
    """An interrupt can land between the writer's construction and the caller's ``with``: nothing then
    closes or aborts it, and its temp file must still go when the writer does (or at exit)."""
    import gc

    writer = VideoWriter(tmp_path / "out.mp4", 64, 48, 25)
    writer.write(level_frames(1)[0])
    assert len(list(tmp_path.iterdir())) == 1
    del writer
    gc.collect()
    assert list(tmp_path.iterdir()) == []


def test_a_closed_writer_does_not_delete_a_later_writers_temp_file(tmp_path):
    """Both writers of one target in one process use the same temp name; the first one's cleanup must
    not reach the second's file."""
    import gc

    out = tmp_path / "out.mp4"
    with VideoWriter(out, 64, 48, 25) as first:
        first.write(level_frames(1)[0])
    second = VideoWriter(out, 64, 48, 25, overwrite=True)
    second.write(level_frames(1)[0])
    del first
    gc.collect()
    assert len(list(tmp_path.iterdir())) == 2, "the finished file and the second writer's temp file"
    second.close()
    assert list(tmp_path.iterdir()) == [out]


def test_existing_output_is_kept_unless_overwrite(tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"precious")
    with pytest.raises(RehueError, match="exists"):
        VideoWriter(out, 64, 48, 25)
    assert out.read_bytes() == b"precious"
    with VideoWriter(out, 64, 48, 25, overwrite=True) as writer:
        writer.write(level_frames(1)[0])
    assert [n for _, _, n in read_all(out)] == [0]
    assert list(tmp_path.iterdir()) == [out]


def test_missing_output_folder_and_bad_extension_are_rehue_errors(tmp_path):
    with pytest.raises(RehueError, match="folder does not exist") as info:
        VideoWriter(tmp_path / "nowhere" / "out.mp4", 64, 48, 25)
    assert info.value.path == str(tmp_path / "nowhere")
    with pytest.raises(RehueError, match="unsupported video output extension"):
        VideoWriter(tmp_path / "out.gif", 64, 48, 25)


def test_writer_rejects_frames_of_the_wrong_shape(tmp_path):
    with VideoWriter(tmp_path / "out.mp4", 64, 48, 25) as writer:
        with pytest.raises(ValueError, match="48x64x3"):
            writer.write(np.zeros((64, 48, 3), np.uint8))
        writer.write(np.zeros((48, 64, 3), np.uint8))


def test_ffv1_is_lossless_rgb_with_the_sound_and_timing(tmp_path):
    from av.video.reformatter import ColorPrimaries, ColorTrc

    clip = make_clip(tmp_path / "a.mp4", level_frames(12), fps=Fraction(24000, 1001), audio=True)
    rng = np.random.default_rng(3)
    noise = [rng.integers(0, 256, (37, 51, 3), dtype=np.uint8) for _ in range(12)]  # odd size, every colour
    out = tmp_path / "master.mkv"
    with VideoReader(clip) as reader, VideoWriter.like(reader, out, width=51, height=37, codec="ffv1") as writer:
        for frame, picture in zip(reader, noise, strict=True):
            writer.write(picture, frame.pts)
    with VideoReader(out) as reader:
        assert (reader.codec, reader.width, reader.height, reader.fps) == ("ffv1", 51, 37, Fraction(24000, 1001))
        back = [frame.rgb for frame in reader]
        context = reader._stream.codec_context
        assert context.color_trc == ColorTrc.IEC61966_2_1 and context.color_primaries == ColorPrimaries.BT709
    assert all(np.array_equal(a, b) for a, b in zip(noise, back, strict=True)), "every pixel exact"
    assert audio_packets(out) == audio_packets(clip)


@pytest.mark.parametrize(("width", "height"), [(1, 40), (64, 1), (1, 1)])
def test_ffv1_keeps_a_film_one_pixel_wide_or_high_exact(tmp_path, width, height):
    """Probe 211: FFV1's version 3 takes no side of 1 pixel, and `--codec ffv1`, which the odd-size warning
    recommends to keep a 1x40 film's size, failed "cannot write the video (Function not implemented)"."""
    rng = np.random.default_rng(4)
    noise = [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(5)]
    with VideoWriter(tmp_path / "thin.mkv", width, height, 24, codec="ffv1") as writer:
        for picture in noise:
            writer.write(picture)
    with VideoReader(tmp_path / "thin.mkv") as reader:
        assert (reader.codec, reader.width, reader.height) == ("ffv1", width, height)
        assert all(np.array_equal(a, frame.rgb) for a, frame in zip(noise, reader, strict=True))


def test_prores_frames_have_no_stray_gray_dashes(tmp_path):
    """Probe 34: with swscale's threads, a 200x60 ramp's 10-bit 4:2:2 frames had 8-pixel mid-gray dashes at a
    slice's start, a third and two thirds down, in most frames (180 10-bit codes off)."""
    ramp = np.broadcast_to(np.linspace(20000, 26000, 200), (60, 200)).astype(np.uint16)
    with VideoWriter(tmp_path / "ramp.mov", 200, 60, 24, codec="prores", deep=True) as writer:  # and read back
        for step in range(8):
            writer.write(np.dstack([ramp + step * 5] * 3))
    with VideoReader(tmp_path / "ramp.mov") as reader:
        for frame in reader:  # the stored 10-bit luma itself, and as rehue reads a 10-bit master's L*
            plane = frame.av_frame.planes[0]
            luma = np.frombuffer(plane, np.uint16).reshape(plane.height, -1)[:, :200].astype(int)
            assert np.abs(luma - np.median(luma, axis=0)).max() < 60, frame.index
            for read in (frame.gray16, frame.rgb48[..., 1]):
                assert np.abs(read.astype(int) - np.median(read, axis=0)).max() < 60 * 64, frame.index


@pytest.mark.parametrize("width", [200, 321])
def test_prores_levels_are_bt709s_exactly_with_no_stray_column(tmp_path, width):
    """Probe 35: swscale's conversion wrote every ProRes frame 0.4% bright (white at Y 943, not 940), and at
    an odd width the encoder left the last chroma column at code 4, a coloured column down every frame."""
    levels = np.broadcast_to(np.linspace(0, 65535, width), (24, width)).astype(np.uint16)
    with VideoWriter(tmp_path / "ramp.mov", width, 24, 24, codec="prores", deep=True) as writer:
        writer.write(np.dstack([levels] * 3))
    with VideoReader(tmp_path / "ramp.mov") as reader:
        frame = next(iter(reader)).av_frame
    # probe 36: each frame's header was untagged, and decoders take it over the container's: BT.601's matrix
    assert (int(frame.colorspace), int(frame.color_range)) == (1, 1), "BT.709, limited range"
    luma, blue, red = (np.frombuffer(plane, np.uint16).reshape(plane.height, -1).astype(int)
                       for plane in frame.planes)
    expected = np.round(64 + 876 * levels[0].astype(float) / 65535)
    assert np.abs(luma[12, :width] - expected).max() <= 2 and luma[12, width - 1] <= 941
    for chroma in (blue, red):  # gray: no colour anywhere, the last column included
        assert np.abs(chroma[12, : frame.planes[1].width] - 512).max() <= 2


@pytest.mark.parametrize("width", [200, 321])
def test_a_gray_masters_levels_are_looked_up_as_swscale_gives_them(tmp_path, width):
    """A 10-bit master's gray is swscale's 16-bit gray, which took 32 ms a 1080p frame: of a black-and-white
    master (its chroma neutral), each luma word's gray is now looked up in a table of swscale's own, and is
    the same to the bit; a toned master's is swscale's still (its luma, `luma_gray`)."""
    import av

    from rehue.data.images import to_uint8
    from rehue.video import io

    rng = np.random.default_rng(width)
    gray = rng.integers(0, 65536, (24, width)).astype(np.uint16)
    sepia = np.dstack([gray, (gray * 0.9).astype(np.uint16), (gray * 0.7).astype(np.uint16)])
    with VideoWriter(tmp_path / "gray.mov", width, 24, 24, codec="prores", deep=True) as writer:
        writer.write(np.dstack([gray] * 3))
    with VideoWriter(tmp_path / "sepia.mov", width, 24, 24, codec="prores", deep=True) as writer:
        writer.write(sepia)
    with av.open(str(tmp_path / "gray10.mkv"), "w") as container:  # a scanner's gray master, one plane
        stream = container.add_stream("ffv1", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, 24, "gray10le"
        frame = av.VideoFrame(width, 24, "gray10le")
        stored = np.zeros((24, frame.planes[0].line_size // 2), np.uint16)
        stored[:, :width] = gray >> 6
        frame.planes[0].update(stored.tobytes())
        frame.pts = 0
        container.mux(stream.encode(frame) + stream.encode(None))
    for name, looked_up in (("gray.mov", True), ("gray10.mkv", True), ("sepia.mov", False)):
        with VideoReader(tmp_path / name) as reader:
            frame = next(iter(reader))
        swscale = io.luma_gray(frame.av_frame, "gray16le", threads=1)  # by BT.601's matrix: the luma (probe 217)
        assert (io._luma_levels(frame.av_frame) is not None) == looked_up, name
        assert np.array_equal(frame.gray16, swscale) and np.array_equal(frame.gray, to_uint8(swscale)), name


def test_a_10_bit_rgb_master_is_read_at_its_own_levels(tmp_path):
    """Probe 35: an FFV1 master stored as 10-bit RGB (gbrp10le) was read 1023/1020 bright through swscale's
    own gray, its top four levels one white."""
    import av

    codes = np.round(np.linspace(0, 1023, 1024)).astype(np.uint16)
    with av.open(str(tmp_path / "master.mkv"), "w") as container:
        stream = container.add_stream("ffv1", rate=24)
        stream.width, stream.height, stream.pix_fmt = 1024, 2, "gbrp10le"
        frame = av.VideoFrame(1024, 2, "gbrp10le")
        for plane in frame.planes:
            stored = np.zeros((2, plane.line_size // 2), np.uint16)
            stored[:, :1024] = codes
            plane.update(stored.tobytes())
        frame.pts = 0
        container.mux(stream.encode(frame) + stream.encode(None))
    with VideoReader(tmp_path / "master.mkv") as reader:
        gray = next(iter(reader)).gray16[0].astype(int)
    assert np.abs(gray - np.round(codes.astype(float) * 65535 / 1023)).max() <= 1
    assert len(np.unique(gray[-4:])) == 4, "the top four levels stay four"


def test_codec_and_container_must_fit(tmp_path):
    with pytest.raises(RehueError, match="name the output .mkv"):
        VideoWriter(tmp_path / "a.mp4", 64, 48, 25, codec="ffv1")
    with pytest.raises(RehueError, match="does not hold H.264"):
        VideoWriter(tmp_path / "a.webm", 64, 48, 25, codec="h264")
    with pytest.raises(RehueError, match="name the output .mov"):
        VideoWriter(tmp_path / "a.mkv", 64, 48, 25, codec="prores")
    with pytest.raises(RehueError, match="unknown codec"):
        VideoWriter(tmp_path / "a.mkv", 64, 48, 25, codec="dnxhd")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("deep", [False, True])
def test_prores_is_10_bit_422_hq_in_a_mov_with_the_sound_and_timing(tmp_path, deep):
    """ProRes for editing and grading software: 10 bits from 16-bit frames (a 10-bit master's levels are
    kept), the picture's L* close to what was written, sound and timing as the source's."""
    from rehue.color.lab import rgb_to_lightness

    clip = make_clip(tmp_path / "a.mp4", level_frames(12), fps=Fraction(24000, 1001), audio=True)
    gentle = np.broadcast_to(np.linspace(30000, 31500, 51), (37, 51)).astype(np.uint16)  # 6 levels at 8 bits
    picture = np.dstack([gentle] * 3)
    written = picture if deep else np.round(picture / 257).astype(np.uint8)
    out = tmp_path / "edit.mov"
    with VideoReader(clip) as reader, VideoWriter.like(reader, out, width=51, height=37, codec="prores",
                                                       deep=deep) as writer:
        for frame in reader:
            writer.write(written, frame.pts)
    with VideoReader(out) as reader:
        # an odd width is padded a column (FFmpeg's ProRes left the last chroma column stray; probe 35)
        assert (reader.codec, reader.width, reader.height, reader.fps) == ("prores", 52, 37, Fraction(24000, 1001))
        assert reader.bits_per_sample == 10
        context = reader._stream.codec_context
        assert context.profile == "HQ" and reader._stream.format.name == "yuv422p10le"
        frames = list(reader)
    assert len(frames) == 12
    lightness = rgb_to_lightness(frames[0].rgb[:, :51])
    assert np.abs(lightness - rgb_to_lightness(written)).mean() < 1.0
    levels = len(np.unique(frames[0].gray16[18, :51]))
    assert (levels > 12) if deep else (levels <= 7), levels  # 10-bit luma holds the gentle ramp's finer steps
    assert audio_packets(out) == audio_packets(clip)


def _interlaced_clip(path, frames=6):
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"x264-params": "interlaced=1:tff=1"}
        for i in range(frames):
            rgb = np.zeros((48, 64, 3), np.uint8)
            rgb[::2, :, 0], rgb[:, : 8 * (i + 1), 1] = 200, 150  # two fields that differ, a moving edge
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_an_interlaced_video_is_read_with_one_warning_to_deinterlace_it(tmp_path, caplog, capsys):
    from rehue.cli import main

    clip = _interlaced_clip(tmp_path / "tv.mp4")
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"):
        with VideoReader(clip) as reader:
            assert len(list(reader)) == 6 and len(list(reader)) == 6
    interlaced = [r for r in caplog.records if "interlaced" in r.getMessage()]
    assert len(interlaced) == 1 and "deinterlace" in interlaced[0].getMessage()
    assert "(in a colour version, in a dataset's frames)" in interlaced[0].getMessage(), "probe 118: frames too"

    caplog.clear()
    progressive = make_clip(tmp_path / "film.mp4", [np.zeros((48, 64, 3), np.uint8)] * 3)
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"), VideoReader(progressive) as reader:
        list(reader)
    assert not caplog.records

    capsys.readouterr()
    assert main(["scenes", str(clip), "--no-progress"]) == 0
    warning_lines = [line for line in capsys.readouterr().err.splitlines() if "is interlaced" in line]
    assert len(warning_lines) == 1 and warning_lines[0].startswith(f"warning: {clip}: the video is interlaced")


def _alpha_clip(path, alpha_levels):
    """An FFV1 film of 4:2:0 frames with an alpha plane, each frame's alpha at its level of ``alpha_levels``."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuva420p"
        for index, level in enumerate(alpha_levels):
            rgba = np.dstack([next(iter(textured_frames(1, 48, 64, seed=index))), np.full((48, 64), level, np.uint8)])
            frame = av.VideoFrame.from_ndarray(rgba, format="rgba").reformat(format="yuva420p")
            frame.pts, frame.time_base = index, Fraction(1, 25)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def test_a_films_transparency_that_is_not_kept_is_said_once(tmp_path, caplog):
    """Probe 152: a ProRes 4444 or FFV1 film with an alpha channel was coloured, or cut into frames, wholly opaque
    without a word. A film of an alpha format whose every frame is opaque gets no warning."""
    said = "the video holds transparency (an alpha channel); rehue colours its picture and keeps none of the " \
           "transparency: what it writes of the film is wholly opaque"
    for name, levels, warned in (("opaque.mkv", [255, 255, 255], 0), ("faded.mkv", [255, 255, 128, 64], 1)):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="rehue.video.io"), \
                VideoReader(_alpha_clip(tmp_path / name, levels)) as reader:
            assert len(list(reader)) == len(levels)
        assert [r.getMessage() for r in caplog.records] == [f"{tmp_path / name}: {said}"] * warned


def test_a_pyav_older_than_the_video_code_needs_is_one_line(tmp_path, monkeypatch):
    """PyAV 12-16 passed an old ``av>=12`` and failed part way with AttributeError or ImportError (probe 17)."""
    import av

    clip = make_clip(tmp_path / "c.mp4", level_frames(2), fps=25)
    monkeypatch.setattr(av, "__version__", "16.1.0")
    for attempt in (lambda: VideoReader(clip), lambda: VideoWriter(tmp_path / "o.mp4", 16, 16, 25)):
        with pytest.raises(RehueError, match=r"PyAV 16\.1\.0 is installed, and rehue's video code needs PyAV 17"):
            attempt()


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_the_film_not_a_thumbnail_before_it_is_the_stream_read(tmp_path, caplog, suffix):
    """Before, the first video stream was coloured: a 160x120 preview track before the 320x240 film came
    out as a coloured thumbnail, and the film was "1 more video stream" (probe 18)."""
    import av

    path = tmp_path / f"two{suffix}"
    with av.open(str(path), "w") as container:
        streams = []
        for width, height in ((160, 120), (320, 240)):
            stream = container.add_stream("libx264", rate=12)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            streams.append(stream)
        streams[0].disposition = av.stream.Disposition(0)
        streams[1].disposition = av.stream.Disposition.default
        for stream in streams:
            encode_frames(container, stream, [np.full((stream.height, stream.width, 3), 40 + 10 * i, np.uint8)
                                              for i in range(4)])
    with VideoReader(path) as reader:
        assert (reader.width, reader.height) == (320, 240)
        assert len(list(reader)) == 4
        assert next(iter(reader.key_frames(1))).shape == (240, 320)
        assert reader.streams_not_carried() == ["1 more video stream (160x120; the 320x240 one, stream 1, is "
                                                "coloured)"]


def _ts_segment(path, start_frame, frames=12):
    """An MPEG-TS recording at 25 frames/s whose clock starts at ``start_frame`` / 25 s."""
    import av

    with av.open(str(path), "w", format="mpegts") as container:
        stream = container.add_stream("mpeg2video", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 30 + 15 * i, np.uint8), format="rgb24")
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = start_frame + i, Fraction(1, 25)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_recordings_joined_end_to_end_follow_on_and_a_gap_is_said(tmp_path, caplog):
    """Before, two .ts recordings joined with `cat` (the second's clock behind the first's) failed in
    FFmpeg's muxer with "Not yet implemented in FFmpeg, patches welcome" into .mp4, or came out 26 hours
    long with one frame held for a day into .mkv; a leap of 90 s was held in silence (probe 18)."""
    first, second = _ts_segment(tmp_path / "a.ts", 2500), _ts_segment(tmp_path / "b.ts", 250)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    with caplog.at_level(logging.WARNING), VideoReader(joined) as reader:
        times = [frame.time for frame in reader]
    assert len(times) == 24 and np.allclose(np.diff(times), 0.04, atol=1e-3), "the second recording follows on"
    # FFmpeg reads the clock going back as a 33-bit wrap: 26.5 hours ahead
    assert "the timestamps leap ahead by 26.5 hours at frame 12 (0.44 s to 95353.72 s)" in caplog.text
    assert "The frames after it are timed to follow on" in caplog.text
    caplog.clear()  # a second pass of one reader (the first frames for bars, then the film) says it once (probe 214)
    with caplog.at_level(logging.WARNING), VideoReader(joined) as reader:
        assert len(list(reader)) == len(list(reader)) == 24
    assert caplog.text.count("recordings joined end to end?") == 1, caplog.text
    for suffix in (".mp4", ".mkv"):
        out = tmp_path / f"copy{suffix}"
        with VideoReader(joined) as reader, VideoWriter.like(reader, out) as writer:
            for frame in reader:
                writer.write(frame.rgb, frame.pts)
        with VideoReader(out) as written:
            assert len(list(written)) == 24 and written.duration_s < 1.5
    caplog.clear()
    ahead = tmp_path / "ahead.ts"
    ahead.write_bytes(_ts_segment(tmp_path / "c.ts", 250).read_bytes()
                      + _ts_segment(tmp_path / "d.ts", 2500).read_bytes())
    with caplog.at_level(logging.WARNING), VideoReader(ahead) as reader:
        assert len(list(reader)) == 24
    assert "the timestamps leap ahead by 89.6 s at frame 12 (0.44 s to 90.00 s)" in caplog.text
    assert "holding frame 11 for it" in caplog.text


def test_a_films_frame_count_is_its_pictures_not_its_files_length(tmp_path):
    """Probe 101: a film whose picture starts 11 hours into its clock had a bar of 0/1000000024 for 24 frames;
    one whose sound runs 2 s longer, 0/76; a Matroska film with sound said one frame more than it holds."""
    frames = list(textured_frames(24, 48, 64))
    for name, options in (("late.mkv", {"pts": [10**9 + i for i in range(24)]}),
                          ("sound.mkv", {"pts": [50 + i for i in range(24)], "audio": True, "audio_seconds": 3.0}),
                          ("plain.mkv", {"audio": True}), ("plain.mp4", {"audio": True})):
        with VideoReader(make_clip(tmp_path / name, frames, fps=25, **options)) as reader:
            assert reader.frame_count == 24, name


def test_a_film_that_starts_late_or_is_trimmed_by_an_edit_list_is_not_called_truncated(tmp_path, caplog):
    """Before, a Matroska film whose picture starts 1 s in, and an MP4 whose edit list trims its first 12
    frames (as lossless cutting tools write them), were each called truncated (probe 18)."""
    import av

    late = tmp_path / "late.mkv"
    with av.open(str(late), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(48):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 40 + i, np.uint8), format="rgb24")
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = 24 + i, Fraction(1, 24)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    trimmed = tmp_path / "trimmed.mp4"
    with av.open(str(trimmed), "w", options={"avoid_negative_ts": "disabled"}) as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(48):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 40 + i, np.uint8), format="rgb24")
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = i - 12, Fraction(1, 24)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    for path, frames in ((late, 48), (trimmed, 36)):
        with caplog.at_level(logging.WARNING), VideoReader(path) as reader:
            assert len(list(reader)) == frames
    assert "truncated" not in caplog.text and "cannot be decoded" not in caplog.text


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_a_film_cut_after_its_first_key_frame_says_its_opening_is_lost_not_its_end(tmp_path, caplog, suffix):
    """Probe 211: a recording whose first key frame was cut off lost the frames before the next one, which the
    decoder drops without an error: an .mp4 was "video ended after 20 of 24 frames; the file looks truncated",
    an .mkv said nothing."""
    import av

    whole = make_clip(tmp_path / "whole.mkv", level_frames(30), gop=10, audio=True)
    cut = tmp_path / f"cut{suffix}"
    with av.open(str(whole)) as source, av.open(str(cut), "w") as container:
        video = container.add_stream_from_template(source.streams.video[0])
        sound = container.add_stream_from_template(source.streams.audio[0])
        seen = 0
        for packet in source.demux():
            if packet.dts is None:
                continue
            if packet.stream.type == "video":
                seen += 1
                if seen <= 3:  # the key frame and two after it
                    continue
            packet.stream = video if packet.stream.type == "video" else sound
            container.mux(packet)
    with caplog.at_level(logging.WARNING), VideoReader(cut) as reader:
        assert len(list(reader)) == 20
    assert [record.getMessage() for record in caplog.records] == [
        f"{cut}: its first frames cannot be decoded, as no key frame comes before them (a recording cut part way "
        "through?); it is coloured from the first frame that can"]


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_which_sound_track_is_the_default_and_who_a_track_is_for_are_kept(tmp_path, suffix):
    """Before, the default flag of a film's second sound track was lost (.mkv) or moved to the first
    (.mp4), and an audio-description track lost its mark (probe 18)."""
    import av

    flags = av.stream.Disposition
    clip = make_clip(tmp_path / f"tracks{suffix}", level_frames(6), fps=12, audio=True, languages=("eng", "fra", "deu"),
                     dispositions=[flags(0), flags.default, flags.visual_impaired])
    out = copy_video(clip, tmp_path / f"copy{suffix}")
    with av.open(str(out)) as container:
        marks = [(stream.metadata.get("language"), bool(stream.disposition & flags.default),
                  bool(stream.disposition & flags.visual_impaired)) for stream in container.streams.audio]
    assert marks == [("eng", False, False), ("fra", True, False), ("deu", False, True)]


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_sound_that_starts_well_before_the_picture_is_kept_in_step(tmp_path, suffix):
    """Before, an .mp4 colour version of a film whose sound starts 1 s before its picture lost that second
    of sound (MP4's edit list starts the file at the first picture), where .mkv kept it (probe 18)."""
    import av

    source = tmp_path / f"late{suffix}"
    with av.open(str(source), "w") as container:
        video = container.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = container.add_stream("aac", rate=48000, layout="stereo")
        for i in range(48):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 40 + 3 * i, np.uint8), format="rgb24")
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = 24 + i, Fraction(1, 24)  # the picture from 1 s
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        for start in range(0, 3 * 48000, 1024):  # the sound from 0 s, 3 s of it
            samples = np.full((2, 1024), 0.1, np.float32)
            chunk = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
            chunk.sample_rate, chunk.pts, chunk.time_base = 48000, start, Fraction(1, 48000)
            container.mux(sound.encode(chunk))
        container.mux(sound.encode(None))
    out = copy_video(source, tmp_path / f"copy{suffix}")
    with av.open(str(out)) as container:
        picture = container.streams.video[0]
        first_picture = next(container.decode(picture))
        picture_at = float(first_picture.pts * first_picture.time_base)
    with av.open(str(out)) as container:
        sound_times = [float(frame.pts * frame.time_base) + frame.samples / frame.sample_rate
                       for frame in container.decode(audio=0)]
    assert max(sound_times) - picture_at == pytest.approx(2.0, abs=0.05), "the sound runs 2 s past the first picture"
    assert picture_at - min(t for t in sound_times) + 1024 / 48000 == pytest.approx(1.0, abs=0.06), \
        "and starts 1 s before it"


@pytest.mark.parametrize(("pixel_format", "full_range"), [("yuv420p", False), ("yuv422p", False),
                                                         ("yuv420p10le", True), ("yuv420p10le", False)])
@pytest.mark.parametrize("colorspace", [1, 5, 2])  # BT.709, BT.601, untagged
def test_a_gray_films_gray_is_its_luma_whatever_its_matrix(tmp_path, pixel_format, full_range, colorspace):
    """Probe 217: a gray film tagged BT.709 (an HD camera's) was read half a level dark at 8 bits, so its colour
    version came out 0.19 L* darker than it; a 10-bit full-range one 0.37 light at 16 bits."""
    import av

    bits = 10 if "10" in pixel_format else 8
    words = np.uint16 if bits > 8 else np.uint8
    path = tmp_path / "hd.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 32, pixel_format
        stream.codec_context.color_range, stream.codec_context.colorspace = 2 if full_range else 1, colorspace
        frame = av.VideoFrame(64, 32, pixel_format)
        low, high = (0, (1 << bits) - 1) if full_range else (16 << (bits - 8), 235 << (bits - 8))
        for index, plane in enumerate(frame.planes):
            samples = np.full((plane.height, plane.line_size // np.dtype(words).itemsize), 1 << (bits - 1), words)
            if index == 0:
                samples[:, :64] = np.linspace(low, high, 64 * 32).round().reshape(32, 64).astype(words)
            plane.update(samples.tobytes())
        frame.color_range, frame.colorspace, frame.pts = 2 if full_range else 1, colorspace, 0
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    with VideoReader(path) as reader:
        (read,) = list(reader)
        luma = np.linspace(low, high, 64 * 32).round().reshape(32, 64)
        exact = np.clip((luma - low) / (high - low), 0, 1)
        assert int(read.av_frame.colorspace) == colorspace, "the tag the film was written with"
        assert np.abs(read.gray - exact * 255).max() <= 0.5 + 1e-9
        if bits > 8:  # swscale widens 10 bits by repeating them: within a level of 65,535 (before, 95 of them)
            assert np.abs(read.gray16 - exact * 65535).max() <= 1


def _tagged_clip(path, transfer: int, frames=3):
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.color_trc = transfer
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 60 + 20 * i, np.uint8), format="rgb24")
            frame.color_trc = transfer
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.mark.parametrize("transfer, named", [(16, "PQ"), (18, "HLG")])
def test_an_hdr_video_is_read_with_one_warning_that_it_is_taken_as_sdr(tmp_path, caplog, transfer, named):
    clip = _tagged_clip(tmp_path / "phone.mp4", transfer)
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"), VideoReader(clip) as reader:
        assert len(list(reader)) == 3 and len(list(reader)) == 3
    hdr = [r.getMessage() for r in caplog.records if "HDR" in r.getMessage()]
    assert len(hdr) == 1 and f"{named} transfer" in hdr[0] and "convert it to SDR" in hdr[0] and str(clip) in hdr[0]

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rehue.video.io"), \
            VideoReader(_tagged_clip(tmp_path / "sdr.mp4", 1)) as reader:  # BT.709
        list(reader)
    assert not caplog.records


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif"])
def test_text_named_as_a_picture_is_said_to_be_no_picture(tmp_path, suffix):
    """Probe 116: `rehue scenes notes.jpg`, a text file, was "the video stream states no frame size (damaged
    header?)": FFmpeg opens a file by its picture extension, whatever it holds."""
    path = tmp_path / f"notes{suffix}"
    path.write_text("hello\n")
    with pytest.raises(RehueError, match=rf"notes\{suffix}: is named as a picture \({suffix}\) but is no picture or "
                                         "video FFmpeg can read"):
        VideoReader(path)


def test_an_avi_of_reordered_frames_is_timed_in_the_order_they_are_shown(tmp_path, caplog):
    """Probe 134: H.264 with B-frames in an AVI (x264's default) was read with each frame timed as another
    (0.16 s, then 0.12 s): its colour version ran 3.1 s beside 1.6 s of sound, with a warning of recordings
    joined at every step back."""
    frames = list(level_frames(40))
    clip = make_clip(tmp_path / "h264.avi", frames, fps=25, codec="libx264", audio=True, audio_codec="pcm_s16le")
    with caplog.at_level(logging.WARNING), VideoReader(clip) as reader:
        read = list(reader)
    assert "timestamps" not in caplog.text
    assert np.allclose(np.diff([frame.time for frame in read]), 0.04, atol=1e-6), "one frame interval apart"
    assert np.diff([frame.pts for frame in read]).tolist() == [1] * 39
    assert [frame_number(frame.rgb) for frame in read] == list(range(40)), "each frame where it is shown"
    out = tmp_path / "copy.mp4"
    with VideoReader(clip) as reader, VideoWriter.like(reader, out) as writer:
        for frame in reader:
            writer.write(frame.rgb, frame.pts)
    with VideoReader(out) as written:
        assert len(list(written)) == 40 and abs(written.duration_s - 1.6) < 0.05
    first = next(i for i, frame in enumerate(read) if frame.time >= 0.8 - 1e-9)
    with VideoReader(clip, start=0.8) as part:
        assert [frame_number(frame.rgb) for frame in part] == list(range(first, 40)), "a part from a seek"


def test_a_video_wider_than_its_encoder_takes_is_refused_naming_the_limit(tmp_path):
    """Probe 134: a side-by-side of a film 9000 pixels wide, into .mp4, was "cannot write the video (Generic error
    in an external library)"; VP9 takes it."""
    for width, height in ((16386, 16), (16, 16386)):
        with pytest.raises(RehueError, match=rf"wide.mp4: H\.264 holds at most 16384 pixels a side, and this video is "
                                             rf"{width}x{height}: name the output \.webm"):
            VideoWriter(tmp_path / "wide.mp4", width, height, 25)
    assert list(tmp_path.iterdir()) == []
    with VideoWriter(tmp_path / "wide.webm", 16386, 16, 25) as writer:
        writer.write(np.zeros((16, 16386, 3), np.uint8))
    with VideoReader(tmp_path / "wide.webm") as written:
        assert (written.width, written.height) == (16386, 16)
    with VideoWriter(tmp_path / "edge.mp4", 16384, 16, 25) as writer:
        writer.write(np.zeros((16, 16384, 3), np.uint8))


def test_a_part_that_holds_none_of_the_films_sound_says_so(tmp_path, caplog):
    """Probe 134: a part ending before the film's sound begins came out with no sound, without a word."""
    clip = make_clip(tmp_path / "short sound.mkv", list(level_frames(40)), fps=25, audio=True, audio_seconds=0.4)
    for start, said in ((1.0, True), (0.2, False)):
        caplog.clear()
        out = tmp_path / f"part{start}.mkv"
        with caplog.at_level(logging.WARNING), VideoReader(clip, start=start) as reader, \
                VideoWriter.like(reader, out) as writer:
            for frame in reader:
                writer.write(frame.rgb, frame.pts)
        assert ("short sound.mkv: the part coloured holds none of its sound, which lies wholly before or after the "
                "picture written; the output has no sound" in caplog.text) is said, start
        if said:
            assert sum(frame.samples for frame in _decoded_sound(out)) == 0, "no sound in the output"
        else:
            assert audio_duration(out) > 0.1


def _decoded_sound(path):
    import av

    with av.open(str(path)) as container:
        return [frame for stream in container.streams.audio for frame in container.decode(stream)]


def test_damage_before_the_first_frame_is_said_as_where_the_film_starts(tmp_path, caplog):
    """Probe 152: a film whose first packets were undecodable was said to show "the frame before ... in their
    place", where there was none: it starts at the first frame decoded after them."""
    import av

    clip = make_clip(tmp_path / "damaged.mp4", level_frames(30), fps=25, gop=10, codec="libx264")
    with av.open(str(clip)) as container:
        spans = [(packet.pos, packet.size) for packet in container.demux(video=0) if packet.size][:2]
    data = bytearray(clip.read_bytes())
    for start, size in spans:
        data[start + 4:start + size] = b"\xff" * (size - 4)  # past the NAL unit's length
    clip.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING), VideoReader(clip) as reader:
        read = list(reader)
    assert round(read[0].time * 25) == 10, "the key frame after the damage"
    assert "the first after 0 decoded frames" in caplog.text
    assert "the frames they held are missing, and the film starts at the first frame decoded after them" in \
        caplog.text and "the frame before" not in caplog.text


def test_an_avi_of_reordered_frames_keeps_its_good_frames_past_damage_and_its_dropped_frames_are_no_truncation(
        tmp_path, caplog):
    """Probe 135: after a damaged packet, an H.264 AVI's good frames were dropped as out of order (its times
    step back until sorted), each taking another's time; an AVI with dropped frames (empty chunks, which its
    frame count holds) was "ended after 40 of 44 frames; the file looks truncated"."""
    import av

    clip = make_clip(tmp_path / "damaged.avi", level_frames(44), fps=25, gop=11, codec="libx264")
    with av.open(str(clip)) as container:
        packet = sorted((p for p in container.demux(video=0) if p.size), key=lambda p: p.pts)[23]
        start, size = packet.pos, packet.size
    data = bytearray(clip.read_bytes())
    data[start + size // 3:start + size] = b"\xff" * (size - size // 3)
    clip.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING), VideoReader(clip) as reader:
        read = list(reader)
    assert "1 packet could not be decoded" in caplog.text
    first = round(read[0].time * 25)
    shown = [(round(frame.time * 25) - first, frame_number(frame.rgb)) for frame in read]
    after = [(slot, picture) for slot, picture in shown if slot >= 33]  # from the key frame after the damage
    assert after == [(slot, slot) for slot in range(33, 44)], "each good frame at its own time"

    caplog.clear()
    dropped = tmp_path / "dropped.avi"
    with av.open(str(dropped), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = Fraction(1, 25)
        stamps, pts = [], 0
        for i, picture in enumerate(level_frames(40)):
            pts += i in (10, 11, 12, 20)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = pts
            stamps.append(pts)
            pts += 1
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with caplog.at_level(logging.WARNING), VideoReader(dropped) as reader:
        read = list(reader)
    assert len(read) == 40 and "truncated" not in caplog.text
    steps = np.round(np.diff([frame.time for frame in read]) * 25).astype(int)
    # AVI stores a dropped frame's empty chunk in stored order, so a gap may move by a frame; its length stays
    assert steps.sum() == stamps[-1] - stamps[0] and steps.min() == 1 and steps.max() == 2, "the dropped time kept"


def test_a_frame_says_which_it_is(tmp_path):
    """Probe 153: `frame_rgb`, put before `Frame.__repr__`, took it out of the class (a frame printed as an object)."""
    clip = make_clip(tmp_path / "film.mp4", level_frames(2), fps=25)
    with VideoReader(clip) as reader:
        assert [repr(frame) for frame in reader] == ["Frame(index=0, pts=0, time=0.000)",
                                                     "Frame(index=1, pts=512, time=0.040)"]


@pytest.mark.parametrize("layout, channels", [("2.1", 3), ("quad", 4), ("5.0", 5), ("6.1", 7)])
def test_a_masters_pcm_of_three_to_seven_unnamed_channels_is_copied_into_mp4(tmp_path, layout, channels):
    """Probe 164: 3-, 4-, 5- or 7-channel PCM from Matroska ("4 channels") failed every run into .mp4, after
    every frame was coloured, "cannot write the video (Invalid argument)": names were given to 1, 2, 6 and 8."""
    from fractions import Fraction

    import av

    clip = tmp_path / "master.mkv"
    with av.open(str(clip), "w") as container:
        video = container.add_stream("ffv1", rate=12)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = container.add_stream("pcm_s16le", rate=48000, layout=layout)
        for frame in level_frames(12, 48, 64):
            container.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(video.encode(None))
        for start in range(0, 48000, 1024):
            samples = av.AudioFrame.from_ndarray(np.zeros((channels, 1024), np.float32), format="fltp",
                                                 layout=layout)
            samples.sample_rate, samples.pts, samples.time_base = 48000, start, Fraction(1, 48000)
            container.mux(sound.encode(samples))
        container.mux(sound.encode(None))
    with av.open(str(clip)) as container:
        assert container.streams.audio[0].codec_context.layout.name == f"{channels} channels", "the case under test"
    out = copy_video(clip, tmp_path / "out.mp4")
    with av.open(str(out)) as container:
        context = container.streams.audio[0].codec_context
        assert (context.name, context.layout.nb_channels) == ("pcm_s16le", channels), "copied"
    assert audio_packets(out) == audio_packets(clip), "the samples untouched"
    assert len(read_all(out)) == 12


def test_sound_that_cannot_be_decoded_is_said_once_and_an_empty_track_as_one(tmp_path, caplog):
    """Probe 164: re-encoded sound whose packets were all damaged gave a warning a packet (95 for 2 s) and a
    silent output without a word of it; a whole film whose sound track held no packet was said to be a part
    "whose sound lies wholly before or after the picture"."""
    import av

    clip = make_clip(tmp_path / "base.mp4", level_frames(25), fps=25, audio=True)
    damaged = _sound_damaged(clip, tmp_path / "damaged.mp4", damaged=(0,))
    with caplog.at_level(logging.WARNING):
        copy_video(damaged, tmp_path / "out.webm")  # WebM takes no AAC: the sound is decoded, to re-encode it
    said = [record.getMessage().removeprefix(f"{damaged}: ") for record in caplog.records]
    assert said[0].startswith(".webm cannot hold its aac sound"), "the note of its re-encoding"
    assert len(said) == 4 and said[1].startswith("skipping an undecodable audio packet ("), said
    assert said[1].endswith("); any more are counted, and said at the end")
    packets = _audio_packet_count(damaged)
    assert said[2:] == [f"{packets} of the {packets} sound packets were left out, undecodable or refused by the output",
                        "none of its sound could be decoded or written; the output has no sound"]

    empty = tmp_path / "empty sound.mkv"
    with av.open(str(empty), "w") as container:
        video = container.add_stream("ffv1", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        container.add_stream("aac", rate=48000)
        for frame in level_frames(10):
            container.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(video.encode(None))
    for part, said in (({}, "its sound track holds no sound"), ({"end": 0.2}, "its sound track holds no sound"),
                       ({"start": 0.2}, "the part coloured holds none of its sound (none lies in it, or the track "
                                        "holds none)")):  # probe 165: a part's, said to lie outside it
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            copy_video(empty, tmp_path / "out.mkv", overwrite=True, **part)
        assert [record.getMessage() for record in caplog.records] == [f"{empty}: {said}; the output has no sound"]


def _sound_damaged(clip, copy, *, damaged: tuple[int, ...] = (), left_out: tuple[int, ...] = ()):
    """``clip`` copied into ``copy``, the packets of its audio tracks ``damaged`` replaced by noise of their size
    and those of ``left_out`` left out (a track of no sound)."""
    import av

    noise = np.random.default_rng(0)
    with av.open(str(clip)) as source, av.open(str(copy), "w") as target:
        streams = {stream.index: target.add_stream_from_template(stream) for stream in source.streams}
        spoilt = {source.streams.audio[track].index for track in damaged}
        dropped = {source.streams.audio[track].index for track in left_out}
        for packet in source.demux():
            index = packet.stream.index
            if packet.dts is None or index in dropped:
                continue
            if index in spoilt and packet.size:
                replaced = av.Packet(noise.integers(0, 256, packet.size, dtype=np.uint8).tobytes())
                replaced.pts, replaced.dts, replaced.duration = packet.pts, packet.dts, packet.duration
                replaced.time_base, packet = packet.time_base, replaced
            packet.stream = streams[index]
            target.mux(packet)
    return copy


def _audio_packet_count(path) -> int:
    import av

    with av.open(str(path)) as container:
        return sum(1 for packet in container.demux(container.streams.audio[0]) if packet.size)


def _unnamed_pcm_master(path, layout: str, channels: int):
    """A master of H.264 and 16-bit PCM whose channel k holds a 440 Hz tone at (k + 1) / channels of 0.3; in
    Matroska it reads back with no speakers named ("3 channels"), in AVI with its ``layout``."""
    from fractions import Fraction

    import av

    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = container.add_stream("pcm_s16le", rate=48000, layout=layout)
        encode_frames(container, video, list(level_frames(10, 48, 64)))
        for start in range(0, 19200, 1024):
            time = np.arange(start, start + 1024) / 48000
            tones = np.stack([0.3 * np.sin(2 * np.pi * 440 * time) * (k + 1) / channels for k in range(channels)])
            samples = av.AudioFrame.from_ndarray((tones * 32767).astype(np.int16).T.reshape(1, -1), format="s16",
                                                 layout=layout)
            samples.sample_rate, samples.pts, samples.time_base = 48000, start, Fraction(1, 48000)
            container.mux(sound.encode(samples))
        container.mux(sound.encode(None))
    return path


def test_unnamed_channels_re_encoded_keep_every_channel_and_too_many_for_mp4_are_said_before_colouring(tmp_path):
    """Probe 165: 3 unnamed channels re-encoded to AAC 3.0 (an .m4v takes no PCM) lost the third, FFmpeg's
    resampler reading "3 channels" as 2.1; 10 of them into .mp4 failed after every frame was coloured, and with
    no encoder left to try ended in a traceback (UnknownCodecError: libvorbis)."""
    import av

    master = _unnamed_pcm_master(tmp_path / "three.mkv", "3.0", 3)
    out = copy_video(master, tmp_path / "out.m4v")
    with av.open(str(out)) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.codec_context.layout.name) == ("aac", "3.0")
        sound = np.concatenate([frame.to_ndarray() for frame in container.decode(stream)], axis=1)
    loudness = np.sqrt((sound[:, 2048:] ** 2).mean(axis=1))
    assert loudness / loudness[-1] == pytest.approx([1 / 3, 2 / 3, 1], abs=0.02), loudness
    master = _unnamed_pcm_master(tmp_path / "ten.mkv", "10 channels", 10)
    for name in ("ten.mp4", "ten.m4v"):
        with pytest.raises(RehueError, match=r"ten\.mkv: the output cannot hold 'pcm_s16le' audio \(10 channels\) "
                                             "and no audio encoder fits it; a .mkv output copies any sound as it is"):
            copy_video(master, tmp_path / name)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.m4v", "ten.mkv", "three.mkv"]
    assert len(read_all(copy_video(master, tmp_path / "ten-copy.mkv"))) == 10


def test_surrounds_at_the_sides_re_encoded_to_aac_keep_their_names_and_speakers_it_cannot_name_are_said(tmp_path,
                                                                                                          caplog):
    """Probe 228: 5.1(side) sound re-encoded to AAC read back as "6 channels", and hexagonal sound too, without a word.
    Side surrounds are now written as AAC's 5.1, each channel where it was; hexagonal, which AAC names not, is said."""
    import av

    master = _unnamed_pcm_master(tmp_path / "side.avi", "5.1(side)", 6)
    with caplog.at_level(logging.WARNING, logger="rehue"):
        out = copy_video(master, tmp_path / "side.m4v")
    assert [record.getMessage() for record in caplog.records] == [
        f"{master}: .m4v cannot hold its pcm_s16le sound (48000 Hz), so the sound is re-encoded to aac (48000 Hz); "
        "a .mkv output copies any sound as it is"]
    with av.open(str(master)) as container:
        assert container.streams.audio[0].codec_context.layout.name == "5.1(side)", "the case under test"
    with av.open(str(out)) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.codec_context.layout.name) == ("aac", "5.1")
        sound = np.concatenate([frame.to_ndarray() for frame in container.decode(stream)], axis=1)
    loudness = np.sqrt((sound[:, 2048:] ** 2).mean(axis=1))
    loudness = np.delete(loudness, 3)  # AAC keeps low frequencies alone in the LFE channel, and the tone is 440 Hz
    assert loudness / loudness[-1] == pytest.approx([1 / 6, 2 / 6, 3 / 6, 5 / 6, 1], abs=0.02), \
        "each channel given its name, not mixed into another"
    caplog.clear()
    master = _unnamed_pcm_master(tmp_path / "hexagonal.avi", "hexagonal", 6)
    with caplog.at_level(logging.WARNING, logger="rehue"):
        out = copy_video(master, tmp_path / "hexagonal.m4v")
    assert [record.getMessage() for record in caplog.records] == [
        f"{master}: .m4v cannot hold its pcm_s16le sound (48000 Hz), so the sound is re-encoded to aac (48000 Hz), "
        'which names no speakers of hexagonal: players are told only "6 channels"; a .mkv output copies any sound as '
        "it is"]
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.layout.name == "6 channels", "the case said"


def _loudness(path) -> np.ndarray:
    """Each channel's loudness past the first 2,048 samples, read plane by plane: PyAV counts 9 planes in a planar
    frame of 8 channels, and its ``to_ndarray`` reads past the last."""
    import av

    with av.open(str(path)) as container:
        sound = np.concatenate([np.stack([np.frombuffer(memoryview(plane)[: frame.samples * 4], np.float32)
                                          for plane in frame.planes[: frame.layout.nb_channels]])
                                for frame in container.decode(audio=0)], axis=1)
    return np.sqrt((sound[:, 2048:] ** 2).mean(axis=1))


def test_speakers_aac_takes_not_are_mixed_into_its_layout_and_eight_unnamed_channels_are_named_in_order(tmp_path,
                                                                                                      caplog):
    """Probe 231: after my fix above (probe 228's), cube's speakers were renamed as 7.1 in place, its back right in
    the LFE channel, lost; 6.0(front) came out of AAC with its centre pair first. Both are mixed into the layout AAC
    takes, and said, with the speakers FFmpeg's mix leaves out (probe 233: cube's top back pair, without a word).
    Eight channels of no names (AAC's read back) are named 7.1 in their order, plane by plane."""
    import av

    top_back = " less its top back left and top back right, which FFmpeg's mix leaves out"
    for layout, into, suffix, less, codec in (("cube", "7.1", "m4v", top_back, "aac"),
                                              ("6.0(front)", "5.1", "m4v", "", "aac"),
                                              ("7.1.4", "7.1", "m4v", top_back, "aac"),  # probe 234: these two
                                              ("4.0", "quad", "webm", "", "opus")):  # were refused
        caplog.clear()
        master = _unnamed_pcm_master(tmp_path / f"{layout}.avi", layout, av.AudioLayout(layout).nb_channels)
        with caplog.at_level(logging.WARNING, logger="rehue"):
            out = copy_video(master, tmp_path / f"{layout}.{suffix}")
        assert [record.getMessage() for record in caplog.records] == [
            f"{master}: .{suffix} cannot hold its pcm_s16le sound (48000 Hz), so the sound is re-encoded to {codec} "
            f"(48000 Hz), its speakers ({layout}) mixed into {into}{less}; a .mkv output copies any sound as it is"]
        with av.open(str(out)) as container:
            assert container.streams.audio[0].codec_context.layout.name == into
    loudness = _loudness(tmp_path / "cube.m4v")  # FL FR FC LFE BL BR SL SR, of cube's FL FR BL BR and its top four
    assert loudness[2] < 0.01 and loudness[3] < 0.01 and min(loudness[[0, 1, 4, 5]]) > 0.05, loudness

    wide = copy_video(_unnamed_pcm_master(tmp_path / "wide.avi", "7.1(wide)", 8), tmp_path / "wide.m4v")
    with av.open(str(wide)) as container:
        assert container.streams.audio[0].codec_context.layout.name == "8 channels", "the case under test"
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rehue"):
        named = copy_video(wide, tmp_path / "named.webm")
    assert "mixed into" not in caplog.text
    with av.open(str(named)) as container:
        assert container.streams.audio[0].codec_context.layout.name == "7.1"
    loudness = _loudness(named)
    assert loudness / loudness[-1] == pytest.approx([(k + 1) / 8 for k in range(8)], abs=0.03), loudness


def test_each_track_that_gives_no_sound_is_named_with_why(tmp_path, caplog):
    """Probe 165: of a damaged track and an empty one, "none of the sound of 1 of its 2 sound tracks could be
    decoded; the output has no sound", the empty one unsaid; two damaged tracks' lines were word for word."""

    clip = make_clip(tmp_path / "two.mp4", level_frames(25), fps=25, audio=True, languages=["eng", "fra"])
    damaged = _sound_damaged(clip, tmp_path / "damaged.mkv", damaged=(0,), left_out=(1,))  # Matroska keeps a
    # track of no packet
    with caplog.at_level(logging.WARNING):
        copy_video(damaged, tmp_path / "out.webm")
    said = [record.getMessage().removeprefix(f"{damaged}: ") for record in caplog.records]
    assert said[-1] == ("none of the sound of audio track 1 could be decoded or written; audio track 2 holds no sound; "
                        "the output has no sound"), said
    assert any(line.startswith("audio track 1: skipping an undecodable audio packet (") for line in said), said
    assert any(line.startswith("audio track 1: ") and "sound packets were left out" in line for line in said), said


def test_flac_of_speakers_mp4_cannot_name_is_re_encoded_not_copied_misnamed(tmp_path, caplog):
    """Probe 226: MP4 stores FLAC with its channel count alone, and a copied 5.1 track (back left and right) read
    back as 5.1(side), a 4.0 one's centre back as quad's back right, without a word."""
    import av

    def film(path, layout):
        with av.open(str(path), "w") as container:
            video = container.add_stream("libx264", rate=25)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
            sound = container.add_stream("flac", rate=44100, layout=layout)
            channels = av.AudioLayout(layout).nb_channels
            for block in range(4):
                samples = (np.sin(np.arange(4410) / 7 * (1 + np.arange(channels)[:, None])) * 8000).astype(np.int16)
                frame = av.AudioFrame.from_ndarray(samples, format="s16p", layout=layout)
                frame.sample_rate, frame.pts = 44100, block * 4410
                container.mux(sound.encode(frame))
            container.mux(sound.encode(None))
            encode_frames(container, video, textured_frames(10, 48, 64))
        return path

    for layout, codec in (("5.1", "aac"), ("4.0", "aac"), ("5.1(side)", "flac"), ("stereo", "flac")):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="rehue"):
            written = copy_video(film(tmp_path / "film.mkv", layout), tmp_path / f"out-{layout}.mp4")
        with av.open(str(written)) as container:
            stream = container.streams.audio[0]
            assert (stream.codec_context.name, next(container.decode(stream)).layout.name) == (codec, layout)
        said = [record.getMessage() for record in caplog.records]
        assert said == ([f"{tmp_path / 'film.mkv'}: .mp4 cannot hold its flac sound (44100 Hz) with its speakers "
                         f"({layout}), so the sound is re-encoded to aac (44100 Hz); a .mkv output copies any sound as "
                         "it is"] if codec == "aac" else []), said
