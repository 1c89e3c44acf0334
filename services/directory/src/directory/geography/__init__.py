"""Geography: Japan's prefectures, municipalities, wards and postal codes, and where a case is."""
